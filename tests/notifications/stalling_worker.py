"""The project's Celery app, in a worker that stalls inside its first reaction to a visit event:
after claiming the event and writing its texts, before the commit. A test kills it there."""

from __future__ import annotations

import os
import time
from typing import Any

from celery.signals import worker_init

from workers.celery import app

__all__ = ["app"]


@worker_init.connect
def _stall_reactions(**_: Any) -> None:
    import django

    django.setup()
    from notifications import reactions

    write = reactions.messages_write

    def stalling(rows: Any, *, now: Any) -> list[int]:
        due = write(rows, now=now)
        open(os.environ["STALL_MARKER"], "w").close()
        time.sleep(600)
        return due

    reactions.messages_write = stalling
