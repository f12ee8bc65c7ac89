"""Concurrency scenarios that need real connections racing each other.

Each runs inside a Django process against a real database: in the production pass the
test process itself (PostgreSQL, transactional test); in the embedded pass a subprocess
on a migrated SQLite file with the site's own settings (WAL, IMMEDIATE transactions), since
pytest's in-memory SQLite does not lock the way the real file does. Run one as
`python -m tests.reliability.scenarios NAME [ARG...]`: it prints its result as JSON.
"""

import json
import sys
import threading
import time
import uuid


def tiny(**config):
    """The runs tests' tiny config (imported once Django is set up), without samples."""
    from tests.runs.conftest import TINY

    return {**TINY, "sample_count": 0, **config}


def make_run(**config):
    """A student, a pack and one queued run of it (config overrides tiny())."""
    from django.contrib.auth import get_user_model

    from packs_app.models import Pack
    from packs_app.sources import resolve_source
    from runs.models import Run

    tag = uuid.uuid4().hex[:8]
    owner = get_user_model().objects.create_user(f"racer-{tag}", password="-")
    text = "\n".join(f"{a}+{b}={a + b}" for a in range(10) for b in range(10))
    Pack.objects.create(slug=f"sums-{tag}", title="Sums", teaches="-", text=text)
    source = resolve_source(f"sums-{tag}", owner)
    return Run.objects.start(owner, source, tiny(**config))


def all_at_once(functions):
    """Call every function in its own thread, released together; their results in order."""
    from django.db import connection

    barrier = threading.Barrier(len(functions))
    results = [None] * len(functions)

    def call(i, function):
        try:
            barrier.wait()
            results[i] = function()
        except Exception as exc:
            results[i] = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def terminal_count(run):
    from runs.models import TERMINAL_KINDS

    return run.events.filter(kind__in=TERMINAL_KINDS).count()


def claim_race(claimers=4):
    """Several workers claim one queued run at once: [True, False, ...] in some order."""
    from runs.models import Run

    run = make_run()
    results = all_at_once(
        [lambda i=i: Run.objects.get(pk=run.pk).claim(f"w{i}") for i in range(int(claimers))]
    )
    return {"results": results, "status": Run.objects.get(pk=run.pk).status}


def terminal_race():
    """A completion, a failure and a cancel written at once to a running run."""
    from runs.models import Kind, Run

    run = make_run()
    run.claim("w")
    results = all_at_once(
        [
            lambda: Run.objects.get(pk=run.pk).finish(Kind.COMPLETED, final_loss=1.0),
            lambda: Run.objects.get(pk=run.pk).finish(Kind.FAILED, error="worker lost"),
            lambda: Run.objects.get(pk=run.pk).finish(Kind.CANCELED),
        ]
    )
    run.refresh_from_db()
    seqs = list(run.events.order_by("seq").values_list("seq", flat=True))
    return {
        "results": results,
        "status": run.status,
        "terminal_events": terminal_count(run),
        "seqs": seqs,
        "terminal_kind": run.terminal_event().kind,
    }


def start_race(requests=8, limit=2):
    """`requests` new-run starts at once for one student allowed `limit` active runs."""
    from django.conf import settings

    from packs_app.sources import resolve_source
    from runs.models import ActiveRunLimit, Run

    settings.LAB_WORKER_MODE = "embedded"  # keep them queued: no worker takes them here
    first = make_run()
    owner, source = first.owner, resolve_source(first.pack.slug, first.owner)
    first.request_cancel()

    def start():
        try:
            Run.objects.start(owner, source, tiny(), max_active=int(limit))
            return "started"
        except ActiveRunLimit:
            return "refused"

    results = all_at_once([start] * int(requests))
    return {"results": sorted(results), "active": Run.objects.filter(owner=owner).active().count()}


def train_while_racing_a_cancel():
    """Training in one thread while another cancels: exactly one terminal event."""
    from django.db import connection

    from runs.models import Run
    from runs.training import train_run

    def train_then_close():
        train_run(run.pk, "w")
        connection.close()

    run = make_run(num_steps=2000)
    trainer = threading.Thread(target=train_then_close)
    trainer.start()
    while Run.objects.get(pk=run.pk).current_step < 5:
        time.sleep(0.01)
    Run.objects.get(pk=run.pk).request_cancel()
    trainer.join()
    run.refresh_from_db()
    return {"status": run.status, "terminal_events": terminal_count(run), "step": run.current_step}


def embedded_workers_train(runs=3):
    """The embedded thread pool trains runs queued through the real start path."""
    from django.conf import settings
    from django.db import transaction

    from runs.models import Run, WorkerHeartbeat
    from runs.workers import start_embedded_workers, stop_embedded_workers, worker_status

    settings.LAB_WORKER_MODE = "embedded"  # also on PostgreSQL in the production pass
    start_embedded_workers(2, force=True)
    with transaction.atomic():
        ids = [make_run().pk for _ in range(int(runs))]
    deadline = time.monotonic() + 60
    while Run.objects.filter(pk__in=ids).active().exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    # the keepers beat on their own clock: give a first beat time to land (a short run can
    # finish before it, and a beat may wait out a SQLite write lock)
    while True:
        try:
            workers = worker_status()
            break
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    stop_embedded_workers()
    statuses = sorted(Run.objects.filter(pk__in=ids).values_list("status", flat=True))
    return {
        "statuses": statuses,
        "workers": workers,
        "trained_by": sorted({Run.objects.get(pk=i).worker.rsplit("/", 1)[-1] for i in ids}),
        "heartbeats_left": WorkerHeartbeat.objects.count(),
    }


def child_env():
    """Environment for a child process on this process's database (pytest-django's test
    database on PostgreSQL; the same SQLite file in the embedded pass)."""
    import os
    import re

    from django.db import connection

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if connection.vendor == "postgresql":
        name = connection.settings_dict["NAME"]
        env["DATABASE_URL"] = re.sub(r"/[^/]*$", f"/{name}", os.environ["DATABASE_URL"])
    return env


def claims_from_processes(processes=4, runs=40):
    """`runs` queued runs (4 classrooms' students and private runs), then `processes`
    processes claim with runs.queue.claim_next until nothing is left, all at once."""
    import subprocess

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from packs_app.sources import resolve_source
    from runs.models import Run

    settings.LAB_WORKER_MODE = "embedded"  # no worker here: the processes claim
    first = make_run()
    source = resolve_source(first.pack.slug, first.owner)
    owners = [get_user_model().objects.create_user(f"claimer-{uuid.uuid4().hex[:8]}")
              for _ in range(8)]  # no password: no slow hashing
    made = [first]
    for i in range(int(runs) - 1):
        owner = owners[i % len(owners)]
        classroom = classroom_for(i % 3) if i % 2 else None  # 3 classrooms and own runs
        made.append(Run.objects.start(owner, source, tiny(), classroom=classroom, max_active=99))
    start_at = time.time() + 2  # every process starts claiming at the same moment
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.scenarios", "claim_until_empty",
             f"p{i}", str(start_at)],
            env=child_env(),
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(int(processes))
    ]
    claimed = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        claimed.append(json.loads(out.strip().splitlines()[-1])["claimed"])
    flat = [run_id for ids in claimed for run_id in ids]
    statuses = set(Run.objects.filter(pk__in=[r.pk for r in made]).values_list("status", flat=True))
    return {
        "claimed": len(flat),
        "distinct": len(set(flat)),
        "expected": len({r.pk for r in made}),
        "per_process": [len(ids) for ids in claimed],
        "statuses": sorted(statuses),
        "workers_right": all(
            Run.objects.get(pk=run_id).worker == f"p{i}"
            for i, ids in enumerate(claimed)
            for run_id in ids
        ),
    }


_classrooms = {}


def classroom_for(index):
    from django.contrib.auth import get_user_model

    from classrooms.models import Classroom

    if index not in _classrooms:
        teacher = get_user_model().objects.create_user(f"teacher-{uuid.uuid4().hex[:8]}")
        _classrooms[index] = Classroom.objects.create(name=f"Room {index}", instructor=teacher)
    return _classrooms[index]


def claim_until_empty(name, start_at):
    """A worker process that only claims: the ids it took, in order."""
    from django.db import connection

    from runs.queue import claim_next

    connection.ensure_connection()
    time.sleep(max(0.0, float(start_at) - time.time()))
    claimed = []
    while (run := claim_next(name)) is not None:
        claimed.append(run.pk)
    return {"claimed": claimed}


def make_long_run():
    """A queued run long enough to be killed mid-way; prints its id."""
    return {"run_id": make_run(n_embd=16, n_head=2, block_size=24, num_steps=2000).pk}


def losses_of(run):
    series = run.step_series()
    return series["step"], series["loss"]


def finish_and_compare(run_id):
    """Train a resumed run to its end here, then train its twin (same text, config and
    seed) without interruption: are the losses the same, bit for bit?"""
    from packs_app.sources import resolve_source
    from runs.models import Kind, Run
    from runs.training import train_run

    def trained(run, worker_name):
        # a live worker (the production pass has one) may claim the run first: then wait
        # for it to finish there, never compare with a half-trained run
        if not train_run(run.pk, worker_name):
            deadline = time.monotonic() + 120
            while not Run.objects.get(pk=run.pk).is_finished:
                assert time.monotonic() < deadline, f"run {run.pk} did not finish"
                time.sleep(0.2)

    run = Run.objects.get(pk=int(run_id))
    if run.status == Run.Status.QUEUED:
        trained(run, "survivor")
    run.refresh_from_db()
    twin = Run.objects.start(run.owner, resolve_source(run.source_ref, run.owner), run.config)
    trained(twin, "reference")
    steps, losses = losses_of(run)
    twin_steps, twin_losses = losses_of(Run.objects.get(pk=twin.pk))
    return {
        "status": run.status,
        "terminal_events": terminal_count(run),
        "resumed": list(run.events.filter(kind=Kind.RESUMED).values_list("data", flat=True)),
        "steps_in_order": steps == list(range(1, run.num_steps + 1)),
        "same_losses": losses == twin_losses and steps == twin_steps,
        "final_loss_same": run.final_loss == Run.objects.get(pk=twin.pk).final_loss,
        # where the two part, if they do: the step and both losses
        "first_difference": next(
            ((step, a, b) for step, a, b in zip(steps, losses, twin_losses, strict=False)
             if a != b),
            None,
        ),
    }


def train(run_id):
    """Train a run in this process (to be killed with SIGKILL by the test)."""
    from runs.training import train_run

    return {"trained": train_run(int(run_id), f"victim:{__import__('os').getpid()}")}


def reap_and_report(run_id):
    from runs.models import Run
    from runs.reaper import reap_runs

    lost, _ = reap_runs()
    run = Run.objects.get(pk=int(run_id))
    return {
        "reaped": lost,
        "status": run.status,
        "error": run.error,
        "terminal_events": terminal_count(run),
        "current_step": run.current_step,
    }


def report(run_id):
    from runs.models import Run

    run = Run.objects.get(pk=int(run_id))
    return {"status": run.status, "current_step": run.current_step, "worker": run.worker}


if __name__ == "__main__":
    import django

    django.setup()
    name, *args = sys.argv[1:]
    print(json.dumps(globals()[name](*args)), flush=True)
