"""SMS_BACKEND=console (`make run`) as several processes use it: each worker process, and each
restart, loads the transport afresh, and every SID it gives lands in one unique column."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

import pytest

from notifications import transports
from notifications.models import Message


def _transports_as_a_new_process_loads_them(name: str) -> ModuleType:
    """notifications/transports.py run afresh, as in a newly started process: its own classes and
    class attributes, nothing carried over from another copy (this process's is left alone)."""
    spec = importlib.util.spec_from_file_location(name, transports.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def test_console_transports_in_two_processes_never_give_the_same_sid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    message = Message(to="+15555550123", body="Your visit is booked.")
    first_process = _transports_as_a_new_process_loads_them("transports_in_a_worker")
    # Another worker process beside it, or the same one restarted.
    second_process = _transports_as_a_new_process_loads_them("transports_in_another_worker")
    sids = [first_process.ConsoleTransport().send(message) for _ in range(3)]
    sids += [second_process.ConsoleTransport().send(message) for _ in range(3)]
    assert len(set(sids)) == len(sids), sids
    max_length = Message._meta.get_field("provider_sid").max_length
    assert max_length is not None
    assert all(len(sid) <= max_length for sid in sids)
    printed = capsys.readouterr().out
    assert all(f"SMS message=None sid={sid} to " in printed for sid in sids)
