"""A per-process thread that publishes ids to the broker, so a booking returns as soon as it commits.

Publishing to the broker costs a request about as much CPU as the booking's own queries. The
request only hands the ids to this relay; its thread publishes them, one call per chunk of
whatever is waiting. The outbox rows are the source of truth: if the queue is lost (a crash, a
`send` that fails), the rows stay pending and the beat sweep sends them a minute later.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from celery.signals import worker_process_shutdown

from workers.celery import app

logger = logging.getLogger(__name__)

# How long a process exiting cleanly waits for its relay to publish what it holds.
EXIT_FLUSH_SECONDS = 2.0


@dataclass
class _State:
    """One process's thread, its queue and its progress; a forked child makes its own."""

    pid: int
    queue: queue.SimpleQueue[list[int]] = field(default_factory=queue.SimpleQueue)
    progress: threading.Condition = field(default_factory=threading.Condition)
    # Counted in submits, not ids: `flush` waits until `handed` (to `send`, failed or not) reaches `submitted`.
    submitted: int = 0
    handed: int = 0


class Relay:
    """Hands ids to `send` from a background thread, merging ids that wait together.

    `send` publishes a list of ids (`notifications.tasks.events_enqueue`); it is passed in rather
    than imported so this module stays free of the services it serves.
    """

    def __init__(
        self,
        send: Callable[[list[int]], None],
        *,
        chunk: int = 25,
        linger: float = 0.0,
        name: str = "sms-relay",
    ) -> None:
        self.send = send
        self.chunk = chunk
        # Seconds to wait after the first ids for more to share their publish (a full chunk goes
        # at once): under load most publishes carry many ids, alone a text waits this long more.
        self.linger = linger
        self.name = name
        self._lock = threading.Lock()
        self._state: _State | None = None
        # A fork while another thread holds the lock would leave the child's copy locked forever.
        ref = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _renew_lock(ref))
        # A clean exit publishes what is held: atexit in web processes, and the signal Celery
        # sends before a prefork child leaves with os._exit (which skips atexit).
        atexit.register(self.flush, EXIT_FLUSH_SECONDS)
        worker_process_shutdown.connect(lambda **_: self.flush(EXIT_FLUSH_SECONDS), weak=False)

    def submit(self, ids: list[int]) -> None:
        """Publish `ids` soon, from the relay's thread; at once, inline, when Celery is eager.

        Eager mode runs tasks in the caller, and tests expect the texts sent when this returns.
        """
        if not ids:
            return
        if app.conf.task_always_eager:
            self.send(list(ids))
            return
        state = self._running()
        with state.progress:
            state.submitted += 1
        state.queue.put(list(ids))

    def flush(self, timeout: float = 2.0) -> bool:
        """Wait until everything submitted so far was handed to `send`; False if `timeout` passed."""
        state = self._state
        if state is None or state.pid != os.getpid():
            return True  # nothing submitted in this process
        with state.progress:
            target = state.submitted
            return state.progress.wait_for(lambda: state.handed >= target, timeout=timeout)

    def _running(self) -> _State:
        """This process's thread, started on first use; a forked child sees another pid and starts
        its own, since threads do not survive a fork."""
        pid = os.getpid()
        state = self._state
        if state is not None and state.pid == pid:
            return state
        with self._lock:
            state = self._state
            if state is None or state.pid != pid:
                state = _State(pid=pid)
                threading.Thread(target=self._loop, args=(state,), name=self.name, daemon=True).start()
                self._state = state
            return state

    def _loop(self, state: _State) -> None:
        while True:
            waiting = [state.queue.get()]
            count, deadline = len(waiting[0]), time.monotonic() + self.linger
            while count < self.chunk:
                try:
                    remaining = deadline - time.monotonic()
                    ids = state.queue.get(timeout=remaining) if remaining > 0 else state.queue.get_nowait()
                except queue.Empty:
                    break
                waiting.append(ids)
                count += len(ids)
            ids = [id_ for submitted in waiting for id_ in submitted]
            for start in range(0, len(ids), self.chunk):
                self._send(ids[start : start + self.chunk])
            with state.progress:
                state.handed += len(waiting)
                state.progress.notify_all()

    def _send(self, batch: list[int]) -> None:
        try:
            self.send(batch)
        except Exception as error:  # noqa: BLE001 (the thread must outlive any failure: the sweep sends the rows)
            # Only a count and a type name: an exception's text may carry ids or a body.
            logger.warning(
                "%s send failed; the sweep will send the rows",
                self.name,
                extra={"messages": len(batch), "error": type(error).__name__},
            )


def _renew_lock(ref: weakref.ref[Relay]) -> None:
    relay = ref()
    if relay is not None:
        relay._lock = threading.Lock()
