"""JSON log lines on stdout. Message bodies (SMS text, request bodies) are never logged."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_PLAIN = (str, int, float, bool, type(None))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        # Only plain values: Django attaches the request to error records, and its text holds the
        # query string (a patient search by phone or name).
        line.update(
            {
                key: value
                for key, value in vars(record).items()
                if key not in _STANDARD and key != "request" and isinstance(value, _PLAIN)
            }
        )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)
