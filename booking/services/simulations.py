"""Access simulations asked for through the API: the row, and running it once on a worker."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from booking.models import SimulationRun, SimulationStatus
from booking.simulation import SimulationInputs, chart_png, simulation_run, summary_table
from practice.errors import DomainError

logger = logging.getLogger(__name__)

# A run still marked running after this long lost its worker; a redelivered task may take it over.
SIMULATION_STALE_AFTER = dt.timedelta(minutes=30)


def simulation_request(*, inputs: SimulationInputs, requested_by: Any) -> SimulationRun:
    """Record the asked simulation and have a worker run it once the row is committed."""
    # Imported here: booking.tasks imports these services.
    from booking.tasks import run_simulation

    with transaction.atomic():
        run = SimulationRun.objects.create(inputs=inputs.to_dict(), requested_by=requested_by)
        transaction.on_commit(lambda: run_simulation.delay(run.pk))
    return run


def simulation_execute(*, run_id: int, now: dt.datetime | None = None) -> bool:
    """Run a queued simulation and store its result and chart; False if another worker has it
    (claimed by a conditional UPDATE, so a task delivered twice runs it once) or it is gone.
    Reads the practice's data only: the run's row is the one thing it writes."""
    started = timezone.now() if now is None else now
    claimed = (
        SimulationRun.objects.filter(id=run_id)
        .filter(
            Q(status=SimulationStatus.QUEUED)
            | Q(status=SimulationStatus.RUNNING, started_at__lt=started - SIMULATION_STALE_AFTER)
        )
        .update(status=SimulationStatus.RUNNING, started_at=started, progress=0)
    )
    if claimed != 1:
        return False
    run = SimulationRun.objects.get(id=run_id)
    shown = [0]

    def progress(share: float) -> None:
        percent = min(99, int(share * 100))
        if percent > shown[0]:
            shown[0] = percent
            SimulationRun.objects.filter(id=run_id).update(progress=percent)

    try:
        result = simulation_run(inputs=SimulationInputs.from_dict(run.inputs), progress=progress)
        result["table"] = summary_table(result)
        chart = chart_png(result)
    except DomainError as error:
        _finish(run_id, status=SimulationStatus.FAILED, error=str(error))
        return True
    except Exception:
        logger.exception("simulation failed", extra={"simulation": run_id})
        _finish(
            run_id,
            status=SimulationStatus.FAILED,
            error="The simulation failed; the error is in the worker's log.",
        )
        return True
    _finish(run_id, status=SimulationStatus.DONE, result=result, chart_png=chart, progress=100)
    return True


def _finish(run_id: int, **fields: Any) -> None:
    SimulationRun.objects.filter(id=run_id).update(finished_at=timezone.now(), **fields)
