"""The relay: ids submitted by requests reach `send` once, batched, from a thread of their own process."""

from __future__ import annotations

import logging
import os
import select
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from celery.signals import worker_process_shutdown

from notifications.relay import Relay
from workers.celery import app as celery_app


@pytest.fixture(autouse=True)
def celery_inline() -> Iterator[None]:
    """Replaces the package's eager fixture: the relay only uses its thread with a real broker."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = eager


class FakeSend:
    """Records each batch, and which process and thread sent it; can be held or made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.senders: list[tuple[int, int]] = []
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()
        self.failures: list[Exception] = []
        self._lock = threading.Lock()

    def __call__(self, ids: list[int]) -> None:
        self.entered.set()
        self.release.wait()
        with self._lock:
            if self.failures:
                raise self.failures.pop(0)
            self.batches.append(list(ids))
            self.senders.append((os.getpid(), threading.get_ident()))

    @property
    def ids(self) -> list[int]:
        with self._lock:
            return [id_ for batch in self.batches for id_ in batch]


@pytest.fixture
def send() -> Iterator[FakeSend]:
    fake = FakeSend()
    yield fake
    fake.release.set()  # a held send would otherwise stall the exit flush


def test_ids_submitted_from_many_threads_are_each_sent_once(send: FakeSend) -> None:
    relay = Relay(send)
    start = threading.Barrier(8)

    def submit_fifty(worker: int) -> None:
        start.wait()
        for n in range(50):
            relay.submit([worker * 1000 + n])

    threads = [threading.Thread(target=submit_fifty, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert relay.flush(timeout=1.0)
    assert Counter(send.ids) == Counter(worker * 1000 + n for worker in range(8) for n in range(50))


def test_ids_waiting_together_are_sent_in_chunks(send: FakeSend) -> None:
    relay = Relay(send, chunk=25)
    send.release.clear()
    relay.submit([0])
    assert send.entered.wait(1.0)  # the thread is inside send; what follows piles up

    for id_ in range(1, 61):
        relay.submit([id_])
    send.release.set()

    assert relay.flush(timeout=1.0)
    assert send.batches == [[0], list(range(1, 26)), list(range(26, 51)), list(range(51, 61))]


def test_ids_submitted_within_the_linger_share_one_send(send: FakeSend) -> None:
    relay = Relay(send, chunk=25, linger=0.5)

    for id_ in range(5):
        relay.submit([id_])
        time.sleep(0.01)  # bookings a few milliseconds apart

    assert relay.flush(timeout=2.0)
    assert send.batches == [[0, 1, 2, 3, 4]]


def test_a_full_chunk_goes_without_waiting_out_the_linger(send: FakeSend) -> None:
    relay = Relay(send, chunk=3, linger=30.0)

    for id_ in range(3):
        relay.submit([id_])

    assert relay.flush(timeout=2.0)
    assert send.batches == [[0, 1, 2]]


def test_a_celery_child_shutting_down_publishes_what_its_relay_holds(send: FakeSend) -> None:
    """Prefork children leave with os._exit, which skips atexit: Celery's signal flushes instead."""
    relay = Relay(send, linger=1.0)
    relay.submit([7])

    worker_process_shutdown.send(sender=None, pid=os.getpid(), exitcode=0)

    assert send.batches == [[7]]


def test_a_large_submit_is_split_into_chunks(send: FakeSend) -> None:
    relay = Relay(send, chunk=25)

    relay.submit(list(range(60)))

    assert relay.flush(timeout=1.0)
    assert send.batches == [list(range(25)), list(range(25, 50)), list(range(50, 60))]


def test_an_empty_submit_sends_nothing_and_starts_no_thread(send: FakeSend) -> None:
    relay = Relay(send, name="sms-relay-empty")

    relay.submit([])

    assert relay.flush(timeout=1.0)
    assert send.batches == []
    assert not any(thread.name == "sms-relay-empty" for thread in threading.enumerate())


def test_a_failing_send_does_not_stop_the_relay_and_logs_no_ids(
    send: FakeSend, caplog: pytest.LogCaptureFixture
) -> None:
    relay = Relay(send)
    send.failures.append(RuntimeError("broker down sending 4242: Your visit is on Monday"))

    with caplog.at_level(logging.WARNING, logger="notifications.relay"):
        relay.submit([4242])
        assert relay.flush(timeout=1.0)
    relay.submit([7])

    assert relay.flush(timeout=1.0)
    assert send.batches == [[7]]
    [record] = caplog.records
    logged = f"{record.getMessage()} {vars(record)}"
    assert record.levelno == logging.WARNING
    assert (vars(record)["messages"], vars(record)["error"]) == (1, "RuntimeError")  # the `extra` fields
    assert "4242" not in logged
    assert "Your visit" not in logged


def test_in_eager_mode_submit_sends_inline_before_returning(send: FakeSend) -> None:
    relay = Relay(send, name="sms-relay-eager")
    celery_app.conf.task_always_eager = True  # the fixture restores it

    relay.submit([1, 2])

    assert send.batches == [[1, 2]]
    assert send.senders == [(os.getpid(), threading.get_ident())]
    assert not any(thread.name == "sms-relay-eager" for thread in threading.enumerate())


def test_a_forked_child_relays_through_its_own_thread(send: FakeSend) -> None:
    relay = Relay(send)
    relay.submit([1])
    assert relay.flush(timeout=1.0)  # the parent's thread is running when the child is forked

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what its relay did, and never return into pytest
        status = 1
        try:
            relay.submit([2])
            flushed = relay.flush(timeout=1.0)
            sender_pid, sender_thread = send.senders[-1]
            report = f"{flushed} {send.batches[-1]} {sender_pid} {sender_thread != threading.get_ident()}"
            os.write(write, report.encode())
            status = 0
        finally:
            os._exit(status)

    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 5.0)
        report = os.read(read, 1000).decode() if ready else "no report"
    finally:
        os.close(read)
        if not ready:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

    assert report == f"True [2] {pid} True"
    relay.submit([3])
    assert relay.flush(timeout=1.0)
    assert send.batches == [[1], [3]]
    assert {sender_pid for sender_pid, _ in send.senders} == {os.getpid()}


def test_flush_is_true_once_everything_is_sent(send: FakeSend) -> None:
    relay = Relay(send)

    relay.submit([1])
    relay.submit([2, 3])

    assert relay.flush(timeout=1.0)
    assert send.ids == [1, 2, 3]


def test_flush_is_false_while_send_is_stuck(send: FakeSend) -> None:
    relay = Relay(send)
    send.release.clear()

    relay.submit([1])

    assert not relay.flush(timeout=0.05)
    send.release.set()
    assert relay.flush(timeout=1.0)
    assert send.batches == [[1]]
