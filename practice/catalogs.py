"""Compile the gettext catalogs (`<app>/locale/<lang>/LC_MESSAGES/django.po` -> `.mo`) with Babel,
in pure Python: Django's `compilemessages` needs GNU gettext's msgfmt, and `make run` needs only
Python. `make` runs it (`python -m practice.catalogs`); the .mo files are build output, not in git.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
APPS = ("practice", "locations", "booking", "notifications")


def catalogs_compile(*, root: Path = ROOT) -> list[Path]:
    """Write each catalog's .mo when it is missing or older than its .po; the ones written."""
    written = []
    for app in APPS:
        for po in sorted((root / app / "locale").glob("*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
                continue
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with mo.open("wb") as target:
                write_mo(target, catalog)
            written.append(mo)
    return written


if __name__ == "__main__":
    for path in catalogs_compile():
        print(f"compiled {path.relative_to(ROOT)}")
    sys.exit(0)
