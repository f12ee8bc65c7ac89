"""The instructor's view of a lesson: matrix cells, leaderboards (best run per student,
fewest steps first) and reflections."""

from datetime import timedelta

from django.utils import timezone

from lessons import progress
from lessons.challenges import MET, NOT_MET
from lessons.models import Reflection, StepRun
from runs.models import Run
from tests.lessons.test_checking import stored_run


def step_run(assignment, step, student, *, verdict, met_at_step=None, status="completed",
             minutes=0):
    run = stored_run(student, [2.0] * 3, status=status)
    sr = StepRun.link(assignment, step, student, run)
    met_at = timezone.now() + timedelta(minutes=minutes) if verdict == MET else None
    StepRun.objects.filter(pk=sr.pk).update(verdict=verdict, met_at_step=met_at_step,
                                            met_at=met_at)
    return sr


def test_cells_and_the_leaderboard(starters, assign, student, classmate):
    assignment = assign(starters["loss-curve"])
    first, second = assignment.lesson.steps.order_by("position")
    step_run(assignment, second, student, verdict=MET, met_at_step=300, minutes=1)
    step_run(assignment, second, student, verdict=MET, met_at_step=250, minutes=2)  # better
    step_run(assignment, second, classmate, verdict=MET, met_at_step=250, minutes=0)  # earlier
    step_run(assignment, first, classmate, verdict=NOT_MET, status=Run.Status.RUNNING)
    Reflection.objects.create(assignment=assignment, step=first, student=student, text="Hm")
    matrix = progress.matrix(assignment)
    cells = {s.username: [c.state for c in row] for s, row in matrix.rows}
    # the student's first step opens the new-run form: a reflection alone does not complete it
    assert cells == {"classmate": ["running", "met"], "student": ["not_started", "met"]}
    (_, board), = matrix.leaderboards
    assert [(rank, s.username, sr.met_at_step) for rank, s, sr in board] == [
        (1, "classmate", 250), (2, "student", 250)]
    assert [(s.username, step.position, text) for s, step, text in matrix.reflections] == [
        ("student", 1, "Hm")]
    student_row = dict(matrix.rows)[student]
    assert student_row[1].words == "met at step 250"
