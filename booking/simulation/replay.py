"""The replay: synthetic referrals booked, cancelled and moved, in time order, on the in-memory
calendar (`booking.simulation.calendar`), as schedulers and the waitlist would. No ORM here."""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable

from booking.availability import zone
from booking.simulation.calendar import Offer, Replay
from booking.simulation.inputs import ReservePolicy
from booking.simulation.records import Arrival, ReplayResult, Templates, Tier, Visit

_MIDNIGHT = dt.time(0)
_ARRIVE, _CANCEL, _VISIT = 0, 1, 2


def replay_run(
    *,
    templates: Templates,
    policy: ReservePolicy,
    arrivals: list[Arrival],
    waitlist: bool = True,
    progress: Callable[[float], None] | None = None,
    check_against_engine: bool = False,
) -> ReplayResult:
    """Replay `arrivals` under `policy`: each referral books the earliest slot its tier may have
    (as a scheduler would); a cancellation frees its slot, which is offered to the waiting
    referrals as the waitlist offers it (most urgent tier first, then the longest waiting, to a
    referral booked on a later day), and a move frees the mover's slot in turn. A
    no-show keeps its slot (the time is lost). Nothing outside the replay changes."""
    replay = Replay(templates, policy, check_against_engine=check_against_engine)
    capacity = replay.capacity()
    visits = [Visit() for _ in arrivals]
    tiers = sorted(templates.tiers, key=lambda tier: -tier.rank)
    waiting: dict[str, list[int]] = {tier.code: [] for tier in tiers}
    events: list[tuple[dt.datetime, int, int, int, int]] = []
    sequence = 0

    def push(at: dt.datetime, kind: int, index: int, version: int = 0) -> None:
        nonlocal sequence
        sequence += 1
        heapq.heappush(events, (at, kind, sequence, index, version))

    def book(index: int, offer: Offer, now: dt.datetime) -> None:
        visit = visits[index]
        slot = offer.slot
        replay.busy_change(surgeon_id=slot.surgeon_id, start=slot.start, add=True)
        visit.status, visit.surgeon_id, visit.location_id, visit.start = (
            "booked",
            slot.surgeon_id,
            slot.location_id,
            slot.start,
        )
        visit.held, visit.reserved = offer.held, offer.reserved
        visit.version += 1
        push(slot.start, _VISIT, index, visit.version)

    for arrival in arrivals:
        push(arrival.at, _ARRIVE, arrival.index)
    total = max(1, len(arrivals))
    handled = searches = 0
    while events:
        now, kind, _, index, version = heapq.heappop(events)
        visit = visits[index]
        arrival = arrivals[index]
        if kind == _ARRIVE:
            searches += 1
            offer = replay.earliest(tier=arrival.tier, now=now)
            if offer is None:
                visit.status = "unbooked"
                continue
            book(index, offer, now)
            waiting[arrival.tier.code].append(index)
            if arrival.cancels:
                assert visit.start is not None  # noqa: S101 - just booked
                push(now + (visit.start - now) * arrival.cancel_fraction, _CANCEL, index)
            handled += 1
            if progress is not None and handled % 500 == 0:
                progress(handled / total)
        elif kind == _VISIT:
            if visit.status == "booked" and version == visit.version:
                visit.status = "no_show" if arrival.no_show else "seen"
        elif visit.status == "booked" and visit.start is not None and visit.start > now:
            visit.status = "cancelled"
            freed = [(visit.location_id, visit.surgeon_id, visit.start)]
            replay.busy_change(surgeon_id=visit.surgeon_id, start=visit.start, add=False)
            while waitlist and freed:
                location_id, surgeon_id, start = freed.pop()
                mover = _waitlist_take(replay, visits, waiting, tiers, location_id, surgeon_id, start, now)
                if mover is None:
                    continue
                moved_index, offer = mover
                moved = visits[moved_index]
                assert moved.start is not None  # noqa: S101 - a booked visit has a start
                freed.append((moved.location_id, moved.surgeon_id, moved.start))
                replay.busy_change(surgeon_id=moved.surgeon_id, start=moved.start, add=False)
                book(moved_index, offer, now)
                moved.moves += 1
        if (handled + 1) % 2000 == 0:
            for code, indexes in waiting.items():
                waiting[code] = [i for i in indexes if visits[i].status == "booked"]
    if progress is not None:
        progress(1.0)
    return ReplayResult(policy=policy, arrivals=arrivals, visits=visits, capacity=capacity, searches=searches)


def _waitlist_take(
    replay: Replay,
    visits: list[Visit],
    waiting: dict[str, list[int]],
    tiers: list[Tier],
    location_id: int,
    surgeon_id: int,
    start: dt.datetime,
    now: dt.datetime,
) -> tuple[int, Offer] | None:
    """The waiting referral a freed slot goes to: the most urgent tier that may book it now,
    then the longest waiting whose visit is on a later day (nobody waits to move an hour
    earlier on the same day); with the offer it takes."""
    tz = zone(replay.calendars[location_id].timezones[location_id])
    # Local midnight after the freed slot's day: a visit from then on is on a later day.
    next_day = dt.datetime.combine(start.astimezone(tz).date() + dt.timedelta(days=1), _MIDNIGHT, tzinfo=tz)
    for tier in tiers:
        offer = replay.slot_offer(
            tier=tier, location_id=location_id, surgeon_id=surgeon_id, start=start, now=now
        )
        if offer is None:
            continue
        for index in waiting[tier.code]:
            visit = visits[index]
            if visit.status == "booked" and visit.start is not None and visit.start >= next_day:
                return index, offer
    return None
