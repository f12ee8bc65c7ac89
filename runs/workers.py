"""Workers: the embedded thread pool (embedded mode) and the keeper every worker runs.

Embedded mode: the server process (microlab_site/asgi.py) starts LAB_EMBEDDED_WORKERS
daemon threads serving an in-process queue of run ids. Celery mode: worker processes train
(runs/tasks.py). Either way a keeper thread beats the WorkerHeartbeat table (what /health/
reads) and runs the reaper every few seconds; in embedded mode it also runs the periodic
chores that `celery beat` runs in production (CELERY_BEAT_SCHEDULE).
"""

import logging
import os
import queue
import socket
import sys
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.module_loading import import_string

from runs.models import Run, WorkerHeartbeat

log = logging.getLogger(__name__)

_queue = queue.Queue()
_start_lock = threading.Lock()
_embedded_started = False
_threads = []


def node_name(mode):
    return f"{mode}@{socket.gethostname()}:{os.getpid()}"


def celery_worker_command(name=None, *, concurrency=1, loglevel="WARNING"):
    """The argv of a separate Celery worker process (benchmarks, load checks, tests)."""
    command = [sys.executable, "-m", "celery", "-A", "microlab_site", "worker"]
    command += ["--concurrency", str(concurrency), "--loglevel", loglevel]
    command += ["--without-gossip", "--without-mingle"]
    return command + (["-n", name] if name else [])


def keeper_seconds():
    """How often a keeper beats and reaps: well inside the stale window."""
    return max(0.5, min(5.0, settings.LAB_HEARTBEAT_STALE_SECONDS / 3))


def worker_status():
    """A short description of the live workers; raises when none has beaten recently."""
    fresh_since = timezone.now() - timedelta(seconds=settings.LAB_HEARTBEAT_STALE_SECONDS)
    alive = WorkerHeartbeat.objects.filter(last_seen__gte=fresh_since)
    names = list(alive.values_list("name", flat=True))
    if not names:
        raise RuntimeError(
            f"no worker heartbeat in the last {settings.LAB_HEARTBEAT_STALE_SECONDS} s"
        )
    return f"{len(names)} alive: {', '.join(sorted(names))}"


class Keeper(threading.Thread):
    """Beats `name` in WorkerHeartbeat and runs the reaper, every keeper_seconds()."""

    running = []

    def __init__(self, name, mode, on_start=None, chores=()):
        super().__init__(name=f"lab-keeper-{mode}", daemon=True)
        self.node, self.mode, self.on_start = name, mode, on_start
        self.chores = [[seconds, chore, None] for seconds, chore in chores]  # last run: None
        self.stopping = threading.Event()

    def do_chores_due(self):
        """Periodic housekeeping (embedded mode has no celery beat): each chore on start,
        then every `seconds`."""
        now = time.monotonic()
        for chore in self.chores:
            seconds, work, last = chore
            if last is None or now - last >= seconds:
                chore[2] = now
                work()

    def run(self):
        from runs.reaper import reap_runs

        Keeper.running.append(self)
        first = True
        while not self.stopping.is_set():
            try:
                WorkerHeartbeat.beat(self.node, self.mode)
                if first and self.on_start:
                    self.on_start()
                first = False
                reap_runs()
                WorkerHeartbeat.forget_older_than(24 * 3600)
                self.do_chores_due()
            except Exception:
                log.exception("keeper round failed", extra={"worker": self.node})
            finally:
                close_old_connections()
            self.stopping.wait(keeper_seconds())
        WorkerHeartbeat.objects.filter(name=self.node).delete()
        connection.close()

    @classmethod
    def stop_all(cls):
        for keeper in cls.running:
            keeper.stopping.set()
        for keeper in cls.running:
            keeper.join(timeout=5)
        cls.running.clear()


# --- embedded mode -----------------------------------------------------------------------


def submit(run_id):
    """Queue a run for the embedded worker threads."""
    _queue.put(run_id)


def requeue_waiting_runs():
    """After a (re)start the in-process queue is empty: queue every run still waiting."""
    for run_id in (
        Run.objects.filter(status=Run.Status.QUEUED)
        .order_by("created_at")
        .values_list("pk", flat=True)
    ):
        submit(run_id)


def serve(worker_name):
    """An embedded worker thread: train queued runs one at a time, forever."""
    from runs.training import train_run

    while True:
        run_id = _queue.get()
        if run_id is None:  # stop_embedded_workers()
            _queue.task_done()
            return
        try:
            train_run(run_id, worker_name)
        except Exception:
            log.exception("embedded worker error", extra={"run_id": run_id})
        finally:
            connection.close()
            _queue.task_done()


def beat_chores():
    """CELERY_BEAT_SCHEDULE as (seconds, callable) pairs: what `celery beat` runs in
    production, the embedded keeper runs in-process."""
    return [
        (entry["schedule"], import_string(entry["task"]))
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
    ]


def start_embedded_workers(count=None, *, force=False):
    """Start the embedded workers and their keeper, once per process; a no-op in celery
    mode. Not under pytest unless forced: tests start workers when they want them."""
    global _embedded_started
    if settings.LAB_WORKER_MODE != "embedded":
        return False
    if "pytest" in sys.modules and not force:
        return False
    with _start_lock:
        if _embedded_started:
            return False
        _embedded_started = True
    count = settings.LAB_EMBEDDED_WORKERS if count is None else count
    base = node_name("embedded")
    for i in range(count):
        thread = threading.Thread(
            target=serve, args=(f"{base}/{i}",), name=f"lab-worker-{i}", daemon=True
        )
        thread.start()
        _threads.append(thread)
    Keeper(base, mode="embedded", on_start=requeue_waiting_runs, chores=beat_chores()).start()
    log.info("embedded workers started", extra={"worker": base, "count": count})
    return True


def stop_embedded_workers(timeout=30):
    """Stop the embedded workers after their current runs, and their keeper (for tests)."""
    global _embedded_started
    for _ in _threads:
        submit(None)
    for thread in _threads:
        thread.join(timeout)
    _threads.clear()
    Keeper.stop_all()
    with _start_lock:
        _embedded_started = False
