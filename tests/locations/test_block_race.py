"""Two administrators adding clashing blocks at the same moment: exactly one wins."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from locations.models import Block
from locations.services.blocks import block_create
from locations.services.errors import BlockOverlap
from tests.factories import LocationFactory, SurgeonFactory


# serialized_rollback, like the project's other committing tests: a plain flush would drop the
# seeded tiers and groups and re-create content types under new ids, breaking the tests after it.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_overlapping_blocks_at_two_locations_cannot_both_be_saved() -> None:
    surgeon = SurgeonFactory()
    locations = [LocationFactory(), LocationFactory()]
    barrier = threading.Barrier(len(locations))
    outcomes: list[str] = []

    def add_block(location_index: int) -> None:
        try:
            barrier.wait(timeout=10)
            block_create(
                surgeon=surgeon,
                location=locations[location_index],
                weekday=0,
                start=dt.time(8 + location_index),
                end=dt.time(12 + location_index),
                valid_from=dt.date(2027, 1, 1),
            )
            outcomes.append("saved")
        except BlockOverlap:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=add_block, args=(index,)) for index in range(len(locations))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["refused", "saved"]
    assert Block.objects.filter(surgeon=surgeon).count() == 1
