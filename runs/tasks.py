"""Celery: the thin wake-up task, and each worker's heartbeat and reaper thread."""

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown

from runs.training import train_next


@shared_task(name="runs.train_run")
def train_run_task(run_id=None):
    """A wake-up: claim the fairly chosen next queued run and train it (`run_id` is only the
    run whose arrival sent it; see runs.dispatch). Time limits: see settings."""
    return train_next(hint=run_id)


@worker_ready.connect
def start_keeper(sender=None, **kwargs):
    from runs.workers import Keeper, node_name

    Keeper(node_name("celery"), mode="celery").start()


@worker_shutdown.connect
def stop_keeper(sender=None, **kwargs):
    from runs.workers import Keeper

    Keeper.stop_all()
