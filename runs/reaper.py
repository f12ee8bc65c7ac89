"""The "at least one terminal event" half of the guarantee: a run whose trainer stopped
beating is failed with "worker lost"; a queued run nobody took is dispatched again."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from runs.models import Kind, Run

log = logging.getLogger(__name__)

WORKER_LOST = "worker lost"


def reap_runs():
    """Fail running runs with a stale heartbeat; re-dispatch queued runs whose dispatch is
    older than LAB_REDISPATCH_SECONDS (a lost task, a restarted embedded server).
    Returns (failed, redispatched). Safe to run anywhere, any number of times at once."""
    from runs.dispatch import enqueue

    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.LAB_HEARTBEAT_STALE_SECONDS)
    failed = 0
    for run in Run.objects.filter(status=Run.Status.RUNNING, heartbeat_at__lt=stale_before):
        data = {"step": run.current_step, "worker": run.worker}
        if run.finish(Kind.FAILED, error=WORKER_LOST, data=data):
            failed += 1
            log.warning("run failed: worker lost", extra={"run_id": run.pk, "worker": run.worker})
    waiting_since = now - timedelta(seconds=settings.LAB_REDISPATCH_SECONDS)
    forgotten = Run.objects.filter(status=Run.Status.QUEUED).filter(
        Q(dispatched_at__lt=waiting_since) | Q(dispatched_at=None, created_at__lt=waiting_since)
    )
    redispatched = sum(enqueue(run) for run in forgotten.order_by("created_at"))
    return failed, redispatched
