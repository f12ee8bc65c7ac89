"""The queue of record: which queued run a free worker takes next, fairly.

Fair share, in this order:
1. a run that lost its worker goes first (it was running already; see resume_lost_run);
2. classrooms take turns: the group served least recently goes next (a run outside a
   classroom belongs to its owner's own group), never-served groups first;
3. within a group, students take turns the same way;
4. within a student, oldest first.
Showcase runs are trained by `load_packs` itself (runs/showcase.py): never claimed here.
"Served" is a run's `claimed_at`, so the turns need no table of their own.

The claim is one UPDATE whose subquery picks that run `FOR UPDATE SKIP LOCKED` on PostgreSQL:
any number of workers on any number of machines never take the same run and never wait on
each other. SQLite (the embedded lab) has no row locks: its IMMEDIATE write transactions
run one at a time, so the same statement is just as safe there. Celery messages and the
embedded queue only wake workers: what a woken worker trains is decided here.
"""

import collections
import heapq
import itertools
import math

from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from runs.models import Kind, Run

MAX_WORKER_LOSSES = 3  # the third lost worker fails the run
WORKER_LOST = "worker lost"
RECENT_RUNS_FOR_ESTIMATE = 20

# "When was this run's group (its classroom, or its owner outside one) last served", and
# "when was its owner last served within that group": each a CASE so either branch can use
# an index ((classroom, claimed_at) or (owner, claimed_at)).
GROUP_SERVED = """CASE WHEN q.classroom_id IS NULL
    THEN (SELECT MAX(g.claimed_at) FROM runs_run g
          WHERE g.classroom_id IS NULL AND g.owner_id = q.owner_id)
    ELSE (SELECT MAX(g.claimed_at) FROM runs_run g WHERE g.classroom_id = q.classroom_id) END"""
STUDENT_SERVED = """CASE WHEN q.classroom_id IS NULL
    THEN (SELECT MAX(s.claimed_at) FROM runs_run s
          WHERE s.classroom_id IS NULL AND s.owner_id = q.owner_id)
    ELSE (SELECT MAX(s.claimed_at) FROM runs_run s
          WHERE s.owner_id = q.owner_id AND s.classroom_id = q.classroom_id) END"""
CLAIM_SQL = f"""
UPDATE runs_run
SET status = 'running', started_at = COALESCE(started_at, %s), claimed_at = %s,
    heartbeat_at = %s, worker = %s
WHERE status = 'queued' AND id = (
    SELECT q.id FROM runs_run q
    WHERE q.status = 'queued' AND NOT q.showcase
    ORDER BY CASE WHEN q.worker_losses > 0 THEN 0 ELSE 1 END,
             {GROUP_SERVED} NULLS FIRST,
             {STUDENT_SERVED} NULLS FIRST,
             q.created_at, q.id
    LIMIT 1 {{lock}}
)
RETURNING id
"""


def claim_next(worker_name):
    """Take the fairly chosen next queued run for `worker_name`: the Run, now running, or
    None when nothing is waiting (or every waiting run is being taken by another worker)."""
    lock = "FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL.format(lock=lock), [now, now, now, worker_name])
        row = cursor.fetchone()
    if row is None:
        return None
    return Run.objects.select_related("pack", "upload", "owner").get(pk=row[0])


def group_of(classroom_id, owner_id):
    """The fair-share group: the classroom, or the owner's own group outside one."""
    return ("classroom", classroom_id) if classroom_id is not None else ("own", owner_id)


def fair_order(queued, group_served, student_served):
    """The order claim_next would take `queued` in, if nothing else changed meanwhile.

    queued: dicts with id, owner_id, classroom_id, created_at, worker_losses.
    group_served: {group_of(...): last claimed_at}; student_served: {(group, owner_id): ...}.
    Each pick is served "now", after every earlier one: the turns go round.

    claim_next's ORDER BY, one pick at a time: the runs that lost their worker first; then
    the group served least recently (never-served first), within it the student served least
    recently, within the student the oldest run. Heaps make that O(n log n) (270 runs of a
    classroom burst: under a millisecond), so every queued run's page and the instructor's
    panel can afford the whole order on each push."""
    # served times become (0, time) and fresh turns (1, n): never-served (-1) < past < now
    served = {g: (0, t) for g, t in group_served.items()}
    served.update({s: (0, t) for s, t in student_served.items()})
    tick = itertools.count()
    order = []
    lost = [run for run in queued if run["worker_losses"]]
    for subset in (lost, [run for run in queued if not run["worker_losses"]]):
        order += take_turns(subset, served, tick)
    return order


NEVER_SERVED = (-1, None)


def take_turns(queued, served, tick):
    """fair_order within `queued` (runs of equal standing): ids in the order taken.
    `served` ({group or (group, owner_id): (rank, time)}) is updated with each pick's turn."""
    students = {}  # (group, owner_id) -> that student's runs, oldest first
    for run in sorted(queued, key=lambda run: (run["created_at"], run["id"])):
        group = group_of(run["classroom_id"], run["owner_id"])
        students.setdefault((group, run["owner_id"]), collections.deque()).append(run)
    # per group, a heap of its students by (served, oldest run); and a heap of the groups by
    # (served, their best student's entry): the top is the run claim_next would take
    in_group = {}
    for student, runs in students.items():
        entry = (served.get(student, NEVER_SERVED), runs[0]["created_at"], runs[0]["id"], student)
        heapq.heappush(in_group.setdefault(student[0], []), entry)
    groups = [(served.get(group, NEVER_SERVED), *heap[0][:3], group)
              for group, heap in in_group.items()]
    heapq.heapify(groups)
    order = []
    while groups:
        group = heapq.heappop(groups)[-1]
        heap = in_group[group]
        student = heapq.heappop(heap)[-1]
        run = students[student].popleft()
        order.append(run["id"])
        turn = served[group] = served[student] = (1, next(tick))
        if students[student]:
            oldest = students[student][0]
            heapq.heappush(heap, (turn, oldest["created_at"], oldest["id"], student))
        if heap:
            heapq.heappush(groups, (turn, *heap[0][:3], group))
    return order


def queued_in_fair_order():
    """Ids of every queued run, in the order workers will take them."""
    fields = ("id", "owner_id", "classroom_id", "created_at", "worker_losses")
    # a showcase is trained by load_packs itself: it takes no worker and no queue place
    queued = list(Run.objects.filter(status=Run.Status.QUEUED, showcase=False).values(*fields))
    if not queued:
        return []
    classrooms = {r["classroom_id"] for r in queued} - {None}
    owners = {r["owner_id"] for r in queued}
    served = (
        Run.objects.filter(claimed_at__isnull=False)
        .filter(Q(classroom_id__in=classrooms) | Q(owner_id__in=owners))
        .values("classroom_id", "owner_id")
        .annotate(last=Max("claimed_at"))
        .order_by()
    )
    group_served, student_served = {}, {}
    for row in served:
        group = group_of(row["classroom_id"], row["owner_id"])
        if group not in group_served or row["last"] > group_served[group]:
            group_served[group] = row["last"]
        student_served[(group, row["owner_id"])] = row["last"]
    return fair_order(queued, group_served, student_served)


def queue_estimate(run):
    """(position, seconds) of a queued run (see queue_estimates); (None, None) unless queued."""
    if run.status != Run.Status.QUEUED:
        return None, None
    return queue_estimates().get(run.pk, (None, None))


def queue_estimates():
    """{run_id: (position, seconds)} of every queued run: position 1 for the next run a
    worker takes; seconds a rough wait (None when there is nothing to go by): the runs
    ahead, shared by the workers busy now (a queue only forms when every worker is busy),
    each taking as long as the recent runs took on average. One reading of the queue for
    all of them: the student's run page and the instructor's panel say the same."""
    order = queued_in_fair_order()
    if not order:
        return {}
    recent = (
        Run.objects.filter(status=Run.Status.COMPLETED, claimed_at__isnull=False)
        .order_by("-finished_at")
        .values_list("claimed_at", "finished_at")[:RECENT_RUNS_FOR_ESTIMATE]
    )
    took = [(finished - claimed).total_seconds() for claimed, finished in recent]
    busy = Run.objects.filter(status=Run.Status.RUNNING).count()
    typical = sum(took) / len(took) if took and busy else None
    return {
        run_id: (position, None if typical is None else math.ceil(position / busy) * typical)
        for position, run_id in enumerate(order, start=1)
    }


def resume_lost_run(run_id, stale_before):
    """A running run whose heartbeat is older than `stale_before` lost its worker: back to
    the queue (first in line) with a run.resumed note, so another worker replays the
    deterministic engine to the last stored step and goes on; the third loss fails it.
    Returns "resumed", "failed" or None (not stale after all, or already ended)."""
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != Run.Status.RUNNING or run.heartbeat_at >= stale_before:
            return None
        losses = run.worker_losses + 1
        data = {"step": run.current_step, "worker": run.worker, "losses": losses}
        if losses < MAX_WORKER_LOSSES:
            run.append_events([(Kind.RESUMED, run.current_step, data)])
            Run.objects.filter(pk=run_id).update(
                status=Run.Status.QUEUED, worker_losses=losses, worker="", dispatched_at=None
            )
    if losses >= MAX_WORKER_LOSSES:  # (finish locks the row again: the first verdict wins)
        return "failed" if run.finish(Kind.FAILED, error=WORKER_LOST, data=data) else None
    from runs.dispatch import enqueue

    run.wake()
    enqueue(run)
    return "resumed"
