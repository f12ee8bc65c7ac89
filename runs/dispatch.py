"""Handing a queued run to a worker: the one place that knows about the two modes."""

import logging

from django.conf import settings
from django.utils import timezone

from runs.models import Run

log = logging.getLogger(__name__)


def enqueue(run):
    """Embedded mode: put the id on the in-process queue of the server's worker threads.
    Celery mode: send `train_run_task`. Returns False when the broker refused (the run stays
    queued and the reaper dispatches it again later). Dispatching twice is harmless: only
    one claim succeeds."""
    task_id = ""
    try:
        if settings.LAB_WORKER_MODE == "embedded":
            from runs.workers import submit

            submit(run.pk)
        else:
            from runs.tasks import train_run_task

            task_id = train_run_task.delay(run.pk).id
    except Exception:
        log.exception("dispatch failed", extra={"run_id": run.pk})
        return False
    Run.objects.filter(pk=run.pk).update(task_id=task_id, dispatched_at=timezone.now())
    return True
