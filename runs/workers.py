"""Workers: the embedded thread pool (embedded mode) and the keeper every worker runs.

Embedded mode: the server process (microlab_site/asgi.py) starts LAB_EMBEDDED_WORKERS
daemon threads woken through an in-process queue. Celery mode: worker processes train
(runs/tasks.py). Either way a woken worker takes the fairly chosen next run (runs.queue),
and a keeper thread beats the WorkerHeartbeat table (what /health/ reads), runs the
reaper and tops up the wake-ups every few seconds; in embedded mode it also restarts a
worker thread that died and runs the periodic chores that `celery beat` runs in production
(CELERY_BEAT_SCHEDULE).
"""

import logging
import os
import queue
import secrets
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.module_loading import import_string

from runs.models import WorkerHeartbeat

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


# DEBUG off (no query log, no template debugging: what a hosted site runs), without the
# https redirect and secure-only cookies a TLS proxy would need (cf. `make run-prod`)
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECURE_SSL_REDIRECT": "0",
    "SECURE_HSTS_SECONDS": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
}


def production_env(base=None):
    """The environment a benchmark starts its servers and workers with: the shell's (or
    `base`), served as a hosted site is (PRODUCTION_ENV) with a fresh random SECRET_KEY;
    sessions for those servers must be signed with it."""
    env = {**(os.environ if base is None else base), "PYTHONUNBUFFERED": "1"}
    return {**env, **PRODUCTION_ENV, "SECRET_KEY": secrets.token_urlsafe(50)}


def collect_static(env):
    """Collect the static files that servers started with `env` serve with DEBUG off (the
    fingerprinted copies their pages link to)."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=settings.BASE_DIR, env=env, check=True, timeout=300,
    )


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

    def __init__(self, name, mode, chores=()):
        super().__init__(name=f"lab-keeper-{mode}", daemon=True)
        self.node, self.mode = name, mode
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
        from runs.dispatch import top_up_wakeups
        from runs.reaper import reap_runs

        Keeper.running.append(self)
        while not self.stopping.is_set():
            try:
                WorkerHeartbeat.beat(self.node, self.mode)
                if self.mode == "embedded":
                    revive_dead_workers()
                reap_runs()
                WorkerHeartbeat.forget_older_than(24 * 3600)
                self.do_chores_due()
                top_up_wakeups()  # a restarted broker or server lost its wake-ups (last:
                # it fails while the broker is away, and the rest must go on meanwhile)
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
    """Wake an embedded worker thread (`run_id`: the run that asks, for the log)."""
    _queue.put(run_id)


def waiting():
    """Wake-ups not yet taken by an embedded worker thread."""
    return _queue.qsize()


def serve(worker_name):
    """An embedded worker thread: on each wake-up, train the fairly chosen next run."""
    from runs.training import train_next

    while True:
        run_id = _queue.get()
        if run_id is None:  # stop_embedded_workers()
            _queue.task_done()
            return
        try:
            train_next(worker_name, hint=run_id)
        except Exception:
            log.exception("embedded worker error", extra={"run_id": run_id})
        finally:
            connection.close()
            _queue.task_done()


def start_worker_thread(index):
    name = f"{node_name('embedded')}/{index}"
    thread = threading.Thread(target=serve, args=(name,), name=f"lab-worker-{index}", daemon=True)
    thread.start()
    return thread


def revive_dead_workers():
    """Supervision in the embedded lab: a worker thread that died is started again."""
    for index, thread in enumerate(_threads):
        if not thread.is_alive():
            log.warning("embedded worker restarted", extra={"worker": thread.name})
            _threads[index] = start_worker_thread(index)


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
    _threads.extend(start_worker_thread(i) for i in range(count))
    Keeper(base, mode="embedded", chores=beat_chores()).start()
    log.info("embedded workers started", extra={"worker": base, "count": count})
    return True


def stop_embedded_workers(timeout=30):
    """Stop the embedded workers after their current runs, and their keeper (for tests)."""
    global _embedded_started
    Keeper.stop_all()  # first: it would revive the threads being stopped
    for _ in _threads:
        submit(None)
    for thread in _threads:
        thread.join(timeout)
    _threads.clear()
    with _start_lock:
        _embedded_started = False
