"""Waking workers for queued runs: the one place that knows about the two modes.

A wake-up names a run, but only as a hint: the woken worker takes the fairly chosen next
run (runs.queue.claim_next), so wake-ups are interchangeable tokens, a spare one costs a
query, and a lost one is made up by `top_up_wakeups` (every keeper round).
"""

import logging

from django.conf import settings
from django.utils import timezone

from runs.models import Run

log = logging.getLogger(__name__)

CELERY_QUEUE = "celery"  # Celery's default queue: where train_run_task goes


def send_wakeup(run_id):
    """One wake-up: onto the embedded workers' in-process queue, or a Celery message."""
    if settings.LAB_WORKER_MODE == "embedded":
        from runs.workers import submit

        submit(run_id)
        return ""
    from runs.tasks import train_run_task

    return train_run_task.delay(run_id).id


def enqueue(run):
    """Wake a worker for `run`. Returns False when the broker refused (the run stays
    queued with no dispatch time, and the next keeper round dispatches it again)."""
    try:
        task_id = send_wakeup(run.pk)
    except Exception:
        log.exception("dispatch failed", extra={"run_id": run.pk})
        return False
    Run.objects.filter(pk=run.pk).update(task_id=task_id, dispatched_at=timezone.now())
    return True


def waiting_wakeups():
    """How many wake-ups wait for a worker: the embedded queue's length, or the Celery
    queue's message count in the broker (raises when the broker is unreachable)."""
    if settings.LAB_WORKER_MODE == "embedded":
        from runs.workers import waiting

        return waiting()
    from celery import current_app

    with current_app.connection_for_write() as connection:
        # not passive: an empty Redis list does not exist, and a passive declare says 404
        return connection.default_channel.queue_declare(CELERY_QUEUE).message_count


def top_up_wakeups():
    """Keep a wake-up waiting for every queued run: a broker restarted without its data
    (or a server restarted in the embedded lab) lost them, and the runs would otherwise
    wait for LAB_REDISPATCH_SECONDS. Returns how many were sent."""
    queued = list(
        Run.objects.filter(status=Run.Status.QUEUED).order_by("created_at").values_list(
            "pk", flat=True
        )
    )
    if not queued:
        return 0
    missing = len(queued) - waiting_wakeups()
    for run_id in queued[: max(0, missing)]:
        send_wakeup(run_id)
    if missing > 0:
        log.info("wake-ups topped up", extra={"count": missing})
    return max(0, missing)
