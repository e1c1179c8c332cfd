"""gunicorn's access log, minus what is a key: a visit page's link (`/v/<token>`) opens a patient's
visit to whoever holds it, so the access log writes `/v/<token>` in its place.

Used by the image's CMD and docker-compose (`--logger-class practice.gunicorn_logging.AccessLogger`);
the access format already leaves out query strings (a patient search's query is a phone number).
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

# The visit page's URLs (notifications/visit_page/urls.py): `/v/<token>` and `/v/<token>/<action>`,
# in the path (`U`), the request line (`r`) and a referer (`f`).
VISIT_TOKEN = re.compile(r"/v/[^/\s?\"]+")


class AccessLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("U", "r", "f"):
            if isinstance(atoms.get(key), str) and "/v/" in atoms[key]:
                atoms[key] = VISIT_TOKEN.sub("/v/<token>", atoms[key])
        return atoms
