"""Apps depend one way: workers and practice lowest, then locations, booking, notifications.

A module may import its own app and the apps below it, never one above: not at the top, not
lazily inside a function, not under `if TYPE_CHECKING:`. Strings naming apps (`include(...)` in
practice/urls.py, INSTALLED_APPS) are not imports. Migrations may depend on any app's migrations,
so they are not read.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The higher the rank, the more an app may import. Workers is Celery wiring and imports no app.
# FHIR sits beside notifications: above booking, and neither imports the other.
RANKS = {"workers": 0, "practice": 1, "locations": 2, "booking": 3, "notifications": 4, "fhir_api": 4}


def upward_imports(source: str, *, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, app) for every import in `source`, the module named `module`, of an app ranked above
    the module's own."""
    own = module.split(".")[0]
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's own package, up `level - 1` packages
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                targets = [".".join([*base, node.module] if node.module else base)]
            else:
                targets = [node.module or ""]
        else:
            continue
        for target in targets:
            app = target.split(".")[0]
            if app in RANKS and app != own and RANKS[app] >= RANKS[own]:
                found.append((node.lineno, app))
    return found


def _modules() -> list[Path]:
    return sorted(
        path for app in RANKS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts
    )


def test_no_app_imports_an_app_above_it() -> None:
    assert _modules(), "no modules found: is ROOT the repository?"
    violations = []
    for path in _modules():
        relative = path.relative_to(ROOT)
        module = ".".join(relative.with_suffix("").parts)
        is_package = path.name == "__init__.py"
        if is_package:
            module = module.removesuffix(".__init__")
        for line, app in upward_imports(path.read_text(), module=module, is_package=is_package):
            violations.append(f"{relative}:{line} imports {app}, above {relative.parts[0]}")
    assert not violations, (
        "Imports against the direction practice <- locations <- booking <- notifications:\n"
        + "\n".join(violations)
    )


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from booking.models import Appointment\n", "locations.services.surgeons", [(1, "booking")]),
        ("import notifications.services\n", "booking.services", [(1, "notifications")]),
        ("from fhir_api import resources\n", "notifications.tasks", [(1, "fhir_api")]),
        ("from notifications.models import Message\n", "fhir_api.apis", [(1, "notifications")]),
        ("from booking.services import hold_create\n", "fhir_api.operations", []),
        ("def later():\n    from booking import selectors\n", "locations.visits", [(2, "booking")]),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from locations.models import Surgeon\n",
            "practice.services",
            [(3, "locations")],
        ),
        ("from practice.settings import DEBUG\n", "workers.celery", [(1, "practice")]),
    ],
    ids=[
        "at the top",
        "a plain import",
        "notifications importing fhir",
        "fhir importing notifications",
        "fhir importing booking (allowed)",
        "inside a function",
        "under TYPE_CHECKING",
        "workers importing an app",
    ],
)
def test_the_direction_check_catches_an_upward_import(
    source: str, module: str, expected: list[tuple[int, str]]
) -> None:
    assert upward_imports(source, module=module) == expected


def test_the_direction_check_lets_an_app_import_itself_and_the_apps_below() -> None:
    source = (
        "from . import errors\n"
        "from locations.models import Surgeon\n"
        "from practice.errors import InvalidInput\n"
        "import workers.celery\n"
        "import django.db\n"
    )
    assert upward_imports(source, module="locations.services.surgeons") == []
