"""The "at least one terminal event" half of the guarantee, and the queue's wake-ups.

A running run whose trainer stopped beating lost its worker: it goes back to the queue and
another worker resumes it (runs.queue.resume_lost_run; the third loss fails it, "worker
lost"). A queued run that no wake-up may be waiting for is dispatched again: one whose
dispatch failed (the broker was down), and any older than LAB_REDISPATCH_SECONDS.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from runs.models import Run
from runs.queue import WORKER_LOST, resume_lost_run

log = logging.getLogger(__name__)

__all__ = ["WORKER_LOST", "reap_runs"]

# a run just created is dispatched by its own request once committed: leave it that long
DISPATCH_GRACE_SECONDS = 2


def reap_runs():
    """Resume (or, the third time, fail) running runs with a stale heartbeat; dispatch
    again the queued runs whose wake-up may be lost. Returns (lost, redispatched). Safe to
    run anywhere, any number of times at once."""
    from runs.dispatch import enqueue

    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.LAB_HEARTBEAT_STALE_SECONDS)
    lost = 0
    stale = Run.objects.filter(status=Run.Status.RUNNING, heartbeat_at__lt=stale_before)
    for run in stale.only("pk", "worker", "current_step"):
        outcome = resume_lost_run(run.pk, stale_before)
        if outcome:
            lost += 1
            log.warning(
                f"worker lost: run {outcome}",
                extra={"run_id": run.pk, "worker": run.worker, "step": run.current_step},
            )
    waiting_since = now - timedelta(seconds=settings.LAB_REDISPATCH_SECONDS)
    never_dispatched_since = now - timedelta(seconds=DISPATCH_GRACE_SECONDS)
    forgotten = Run.objects.filter(status=Run.Status.QUEUED).filter(
        Q(dispatched_at__lt=waiting_since)
        | Q(dispatched_at=None, created_at__lt=never_dispatched_since)
    )
    redispatched = sum(enqueue(run) for run in forgotten.order_by("created_at"))
    return lost, redispatched
