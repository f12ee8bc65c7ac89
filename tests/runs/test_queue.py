"""runs.queue: which run a free worker takes next. Round-robin across classrooms (a run
outside one is its owner's own group), then across students, oldest first; a run that lost
its worker first; the order students are shown is the order workers take."""

import random
from datetime import datetime, timedelta

import pytest

from classrooms.models import Classroom
from runs.models import Run
from runs.queue import claim_next, fair_order, queue_estimate, queued_in_fair_order
from runs.training import train_claimed

pytestmark = pytest.mark.services  # the claim statement on PostgreSQL too
T0 = datetime(2026, 1, 1, 9, 0)


def queued(run_id, owner, classroom, minute, losses=0):
    return {
        "id": run_id,
        "owner_id": owner,
        "classroom_id": classroom,
        "created_at": T0 + timedelta(minutes=minute),
        "worker_losses": losses,
    }


def test_fair_order_on_a_hand_built_queue():
    # classroom 1: student 10 (runs 1, 2, 3), then student 11 (run 4); classroom 2:
    # student 20 (runs 5, 6); student 30 outside any classroom (run 7), last to arrive
    runs = [
        queued(1, 10, 1, 0),
        queued(2, 10, 1, 1),
        queued(3, 10, 1, 2),
        queued(4, 11, 1, 3),
        queued(5, 20, 2, 4),
        queued(6, 20, 2, 5),
        queued(7, 30, None, 6),
    ]
    # nobody served yet: the groups go by their oldest run, then take turns; within
    # classroom 1 the two students alternate
    assert fair_order(runs, {}, {}) == [1, 5, 7, 4, 6, 2, 3]


def test_fair_order_serves_the_least_recently_served_group_first():
    runs = [queued(1, 10, 1, 0), queued(2, 20, 2, 1), queued(3, 21, 2, 2)]
    served = {("classroom", 1): T0 + timedelta(hours=1), ("classroom", 2): T0}
    students = {(("classroom", 2), 20): T0}  # student 21 never had a turn
    assert fair_order(runs, served, students) == [3, 1, 2]


def test_a_run_that_lost_its_worker_goes_first():
    runs = [queued(1, 10, 1, 0), queued(2, 20, 2, 5, losses=1)]
    assert fair_order(runs, {}, {}) == [2, 1]


def fair_order_one_pick_at_a_time(queued, group_served, student_served):
    """The reference: claim_next's ORDER BY applied literally, the whole queue sorted again
    after every pick, the picked run's group and student served "now" (after all before)."""
    never, past = (-1, None), 0
    groups = {g: (past, t) for g, t in group_served.items()}
    students = {s: (past, t) for s, t in student_served.items()}
    waiting, order = list(queued), []
    for now in range(len(waiting)):
        def place(run):
            group = ("classroom", run["classroom_id"]) if run["classroom_id"] else ("own",
                                                                                   run["owner_id"])
            return (run["worker_losses"] == 0, groups.get(group, never),
                    students.get((group, run["owner_id"]), never), run["created_at"], run["id"])
        best = sorted(waiting, key=place)[0]
        waiting.remove(best)
        order.append(best["id"])
        group = ("classroom", best["classroom_id"]) if best["classroom_id"] else ("own",
                                                                                 best["owner_id"])
        groups[group] = students[(group, best["owner_id"])] = (1, now)
    return order


@pytest.mark.parametrize("seed", range(40))
def test_fair_order_equals_the_one_pick_at_a_time_reference(seed):
    """Random queues (classrooms, private runs, lost workers, served before or not,
    equal creation times): the fast order is the literal one."""
    rng = random.Random(seed)
    runs, group_served, student_served = [], {}, {}
    for run_id in range(1, rng.randint(1, 120)):
        classroom = rng.choice([None, 1, 2, 3, 4])
        owner = rng.randint(1, 25) + (100 * classroom if classroom else 0)
        runs.append(queued(run_id, owner, classroom, rng.randint(0, 30),
                           losses=int(rng.random() < 0.1)))
        group = ("classroom", classroom) if classroom else ("own", owner)
        if rng.random() < 0.3:
            group_served[group] = T0 + timedelta(minutes=rng.randint(-60, 0))
            student_served[(group, owner)] = group_served[group] - timedelta(
                minutes=rng.randint(0, 5))
    rng.shuffle(runs)
    assert fair_order(runs, group_served, student_served) == fair_order_one_pick_at_a_time(
        runs, group_served, student_served)


def make_classroom(instructor, name, students):
    room = Classroom.objects.create(name=name, instructor=instructor)
    for student in students:
        room.join(student)
    return room


@pytest.fixture
def busy_site(make_user, instructor, start_run, settings):
    """Classroom A: 3 students × 3 runs; classroom B: 1 student × 2 runs; one private run.
    Started A first, then B, then the private one (so FIFO would take all of A first)."""
    settings.LAB_MAX_ACTIVE_RUNS = 200
    a_students = [make_user(f"a{i}") for i in range(3)]
    b_student, loner = make_user("b0"), make_user("loner")
    room_a = make_classroom(instructor, "A", a_students)
    room_b = make_classroom(instructor, "B", [b_student])
    runs = {"A": [], "B": [], "own": []}
    for _ in range(3):
        for student in a_students:
            runs["A"].append(start_run(student, classroom=room_a))
    runs["B"] += [start_run(b_student, classroom=room_b) for _ in range(2)]
    runs["own"].append(start_run(loner))
    return runs


def drain(worker="w"):
    """Claim until nothing is left: the claimed runs in order."""
    order = []
    while (run := claim_next(worker)) is not None:
        order.append(run)
    return order


def test_claims_go_round_robin_across_classrooms_then_students(busy_site):
    order = drain()
    assert len(order) == 12 and all(r.status == Run.Status.RUNNING for r in order)
    groups = [
        "own" if r.classroom_id is None else Classroom.objects.get(pk=r.classroom_id).name
        for r in order
    ]
    assert groups[:3] == ["A", "B", "own"]  # one turn each, oldest group first
    assert groups[3:5] == ["A", "B"]  # the private group is empty now
    assert groups[5:] == ["A"] * 7
    a_owners = [r.owner.username for r, group in zip(order, groups, strict=True) if group == "A"]
    assert a_owners == ["a0", "a1", "a2"] * 3  # the students of A take turns
    for student in ("a0", "a1", "a2"):  # and each student's runs go oldest first
        mine = [r.created_at for r in order if r.owner.username == student]
        assert mine == sorted(mine)


def test_students_are_shown_the_order_workers_take(busy_site):
    predicted = queued_in_fair_order()
    some = Run.objects.get(pk=predicted[4])
    assert queue_estimate(some)[0] == 5
    assert [run.pk for run in drain()] == predicted


def test_the_wait_estimate_counts_the_runs_ahead_per_busy_worker(busy_site):
    first, second = claim_next("w1"), claim_next("w2")
    now = first.claimed_at
    Run.objects.filter(pk=first.pk).update(
        status=Run.Status.COMPLETED, finished_at=now + timedelta(seconds=10)
    )
    third = claim_next("w1")
    assert {r.status for r in (second, third)} == {Run.Status.RUNNING}
    waiting = Run.objects.get(pk=queued_in_fair_order()[2])
    position, seconds = queue_estimate(waiting)
    assert position == 3
    assert seconds == pytest.approx(2 * 10)  # ceil(3 / 2 busy workers) runs of 10 s
    assert queue_estimate(third) == (None, None)


def test_starvation_one_group_with_100_runs_cannot_hold_back_another(
    make_user, instructor, start_run, settings
):
    settings.LAB_MAX_ACTIVE_RUNS = 200
    crowd = make_user("crowd")
    room = make_classroom(instructor, "Big", [crowd])
    for _ in range(100):
        start_run(crowd, classroom=room)
    assert claim_next("w").owner == crowd  # the crowd had its turn...
    lone = start_run(make_user("lone"))  # ...then a single run arrives, last of 101
    assert claim_next("w").pk == lone.pk  # it is taken in the very next round


def test_a_resumed_run_is_taken_first_and_trains_to_the_end(student, start_run, settings):
    settings.LAB_WORKER_MODE = "embedded"
    waiting = start_run(student)
    lost = start_run(student, num_steps=40)
    assert lost.claim("gone")
    Run.objects.filter(pk=lost.pk).update(status=Run.Status.QUEUED, worker_losses=1)
    taken = claim_next("w")
    assert taken.pk == lost.pk and taken.worker == "w" and taken.started_at == lost.started_at
    train_claimed(taken, "w")
    taken.refresh_from_db()
    assert taken.status == Run.Status.COMPLETED
    assert Run.objects.get(pk=waiting.pk).status == Run.Status.QUEUED


def test_nothing_queued_claims_nothing(student, start_run):
    run = start_run(student)
    run.request_cancel()
    assert claim_next("w") is None


def test_the_run_page_shows_the_fair_position_the_wait_and_a_resume(
    client, student, start_run, settings
):
    settings.LAB_WORKER_MODE = "embedded"
    done, running = start_run(student), start_run(student)
    for run in (done, running):
        assert run.claim("w")
    Run.objects.filter(pk=done.pk).update(
        status=Run.Status.COMPLETED, finished_at=done.claimed_at + timedelta(seconds=30)
    )
    waiting = start_run(student)
    client.force_login(student)
    page = client.get(f"/runs/{waiting.pk}/").content.decode()
    assert "number 1 in the queue · about 30 s to wait" in page
    long_ago = done.claimed_at - timedelta(hours=1)
    Run.objects.filter(pk=running.pk).update(current_step=7, heartbeat_at=long_ago)
    from runs.reaper import reap_runs

    assert reap_runs()[0] == 1
    page = client.get(f"/runs/{running.pk}/").content.decode()
    assert "The worker stopped at step 7; resumed on another worker." in page
    assert "number 1 in the queue" in page  # a resumed run goes first
