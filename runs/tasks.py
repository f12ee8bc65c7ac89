"""Celery: the thin training and retention tasks, and each worker's heartbeat and reaper thread."""

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown

from runs import retention
from runs.training import train_run


@shared_task(name="runs.train_run")
def train_run_task(run_id):
    """Claim and train one run (acks_late, prefetch 1 and time limits: see settings)."""
    return train_run(run_id)


@shared_task(name="runs.tasks.purge_expired")
def purge_expired():
    """Periodic (see CELERY_BEAT_SCHEDULE): remove runs and uploads past the age limit."""
    return retention.purge_expired()


@worker_ready.connect
def start_keeper(sender=None, **kwargs):
    from runs.workers import Keeper, node_name

    Keeper(node_name("celery"), mode="celery").start()


@worker_shutdown.connect
def stop_keeper(sender=None, **kwargs):
    from runs.workers import Keeper

    Keeper.stop_all()
