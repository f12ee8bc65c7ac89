"""Celery: the thin wake-up and retention tasks, and each worker's heartbeat and reaper thread."""

import logging
import os

from celery import shared_task
from celery.signals import celeryd_init, worker_ready, worker_shutdown
from django.conf import settings

from runs import retention
from runs.training import train_next


@shared_task(name="runs.train_run", acks_late=False)
def train_run_task(run_id=None):
    """A wake-up: claim the fairly chosen next queued run and train it (`run_id` is only the
    run whose arrival sent it; see runs.dispatch). Acknowledged when it starts, not when it
    ends: a wake-up is spent once a run is claimed, and a broker blip then has no training
    task's message to give back (nor to cancel it for). Time limits: see settings."""
    return train_next(hint=run_id)


@shared_task(name="runs.tasks.purge_expired")
def purge_expired():
    """Periodic (see CELERY_BEAT_SCHEDULE): remove runs and uploads past the age limit."""
    return retention.purge_expired()


log = logging.getLogger(__name__)


@celeryd_init.connect
def yield_to_the_web(sender=None, **kwargs):
    """Lower the worker's CPU priority (and so its training children's, forked after this)
    by LAB_WORKER_NICE (default 0: not at all). Training is batch work and page loads are
    what someone waits for, but a trainer also announces its own steps to their viewers:
    see the setting's note on what load_site measured."""
    if settings.LAB_WORKER_NICE:
        try:
            os.nice(settings.LAB_WORKER_NICE)
        except OSError as exc:  # not on this platform, or not allowed: train anyway
            log.warning("worker priority unchanged: %r", exc)


@worker_ready.connect
def start_keeper(sender=None, **kwargs):
    from runs.workers import Keeper, node_name

    Keeper(node_name("celery"), mode="celery").start()


@worker_shutdown.connect
def stop_keeper(sender=None, **kwargs):
    from runs.workers import Keeper

    Keeper.stop_all()
