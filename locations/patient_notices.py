"""What locations asks of whoever texts patients (notifications, two layers above it).

An administrator's closure can strand booked visits; with `notify_patients` the closure API asks
here for each stranded visit's patient to be told (or, for a dry run, what would be said).
Notifications answers by calling `register` from `NotificationsConfig.ready()`, as booking answers
`locations.visits`. With nothing registered, no patient is told and the answer is [].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol


class StrandedNotify(Protocol):
    def __call__(self, *, appointment_ids: Sequence[int], dry_run: bool) -> Sequence[Mapping[str, Any]]: ...


class _Registry:
    stranded_notify: StrandedNotify | None = None


_registry = _Registry()


def register(*, stranded_notify: StrandedNotify) -> None:
    """Install the app that texts patients; a second call replaces the first."""
    _registry.stranded_notify = stranded_notify


def stranded_notify(*, appointment_ids: Sequence[int], dry_run: bool) -> list[Mapping[str, Any]]:
    """Tell the patients of these stranded visits (or, with `dry_run`, answer what each would be
    told without writing anything): one notice per visit. [] when no app texts patients."""
    notify = _registry.stranded_notify
    if notify is None or not appointment_ids:
        return []
    return list(notify(appointment_ids=appointment_ids, dry_run=dry_run))
