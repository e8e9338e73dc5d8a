"""The Celery worker's process-wide tuning."""

from __future__ import annotations

import gc

from studio.runs.tasks import WORKER_GC_THRESHOLD, tune_garbage_collection


def test_a_ready_worker_collects_less_often_and_leaves_its_start_up_objects_out() -> None:
    threshold = gc.get_threshold()
    try:
        tune_garbage_collection()
        assert gc.get_threshold() == (WORKER_GC_THRESHOLD, threshold[1], threshold[2])
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
