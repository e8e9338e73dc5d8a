"""The Celery worker's process-wide tuning."""

from __future__ import annotations

import gc

from studio.runs.host import GC_THRESHOLD
from studio.runs.tasks import tune_worker


def test_a_ready_worker_collects_less_often_and_leaves_its_start_up_objects_out() -> None:
    threshold = gc.get_threshold()
    try:
        tune_worker()
        assert gc.get_threshold() == (GC_THRESHOLD, threshold[1], threshold[2])
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
