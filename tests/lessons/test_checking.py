"""Challenges checked where a run's events are stored: on stored runs, incrementally, once.
Also in the production pass: the checks' JSON queries on PostgreSQL."""

import pytest

from lessons.challenges import MET, NOT_MET, PENDING
from lessons.checking import check
from lessons.models import StepRun
from runs.diagnostics import SMOOTH_WINDOW
from runs.models import Kind, Run

pytestmark = pytest.mark.services


def stored_run(owner, losses, *, classroom=None, status=Run.Status.RUNNING):
    run = Run.objects.create(owner=owner, config={"num_steps": 200}, num_steps=200,
                             status=status, vocab="abc", classroom=classroom)
    run.append_events([(Kind.STEP, i + 1, {"step": i + 1, "loss": x})
                       for i, x in enumerate(losses)], current_step=len(losses))
    return run


def lesson_run(starters, assign, student, run, key="loss-curve", position=2):
    assignment = assign(starters[key])
    step = starters[key].steps.get(position=position)
    return StepRun.link(assignment, step, student, run)


def test_met_at_the_step_an_independent_mean_first_reaches_the_target(
    starters, assign, student
):
    losses = [3.0 - 0.01 * i for i in range(200)]  # the target is 1.2 (starter step 2)
    run = stored_run(student, losses[:120])
    step_run = lesson_run(starters, assign, student, run)
    assert check(step_run, run).state == PENDING
    assert step_run.checked_step == 120
    run.append_events([(Kind.STEP, i + 1, {"step": i + 1, "loss": losses[i]})
                       for i in range(120, 200)], current_step=200)
    verdict = check(step_run, run)
    expected = next(
        k for k in range(SMOOTH_WINDOW, 201)
        if sum(losses[k - SMOOTH_WINDOW:k]) / SMOOTH_WINDOW <= 1.2
    )
    assert (verdict.state, verdict.step) == (MET, expected)
    step_run.refresh_from_db()
    assert step_run.met_at_step == expected and step_run.met_at is not None


def test_a_verdict_is_recorded_once(starters, assign, student):
    run = stored_run(student, [1.0] * 30)
    step_run = lesson_run(starters, assign, student, run)
    check(step_run, run)
    first = StepRun.objects.get(pk=step_run.pk)
    again = StepRun.objects.get(pk=step_run.pk)
    check(again, run, finished=True)
    assert StepRun.objects.get(pk=step_run.pk).met_at == first.met_at
    assert StepRun.objects.get(pk=step_run.pk).verdict == MET


def test_a_run_that_ends_short_of_the_target_is_not_met(starters, assign, student):
    run = stored_run(student, [2.0] * 40)  # the target is 1.2
    step_run = lesson_run(starters, assign, student, run)
    run.finish(Kind.COMPLETED, final_loss=2.0, data={"step": 40})  # the hook checks
    step_run.refresh_from_db()
    assert step_run.verdict == NOT_MET and step_run.value == 2.0


def test_training_checks_the_challenge_live_through_the_stored_events_hook(
    starters, assign, student, train_step
):
    assign(starters["loss-curve"])
    step_run = train_step(student, starters["loss-curve"].steps.get(position=2))
    series = step_run.run.step_series()["loss"]
    expected = next(k for k in range(SMOOTH_WINDOW, len(series) + 1)
                    if sum(series[k - SMOOTH_WINDOW:k]) / SMOOTH_WINDOW <= 1.2)
    assert (step_run.verdict, step_run.met_at_step) == (MET, expected)


def custom_step(author, packs, challenge, pack="arithmetic"):
    from lessons.models import Lesson, Step

    lesson = Lesson.objects.create(title="Custom", author=author)
    preset = {"n_embd": 16, "n_head": 2, "n_layer": 1, "block_size": 16, "num_steps": 400,
              "learning_rate": 0.01, "seed": 1, "sample_count": 10, "sample_interval": 50}
    return Step.objects.create(lesson=lesson, position=1, title="Go", instructions="Go",
                               pack=packs[pack], preset=preset, challenge=challenge)


def first_batch(run, enough):
    """The first sample batch's step where enough(texts, follows) holds, read back from the
    run's samples independently of the checker."""
    batches = {}
    for sample in run.samples():
        batches.setdefault(sample["step"], []).append(sample)
    for step in sorted(batches):
        if enough(batches[step]):
            return step
    return None


def test_template_and_correct_shares_on_a_trained_run(instructor, packs, assign, student,
                                                      train_step):
    from packs_app.builtin import BUILTIN_PACKS

    spec = BUILTIN_PACKS["arithmetic"]
    for kind, share, passes in (
        ("template_share", 0.5, lambda s: s["follows"]),
        ("correct_share", 0.2, lambda s: s["follows"] and spec.is_valid_line(s["text"])),
    ):
        step = custom_step(instructor, packs, {"kind": kind, "target": share})
        assign(step.lesson)
        step_run = train_step(student, step)
        expected = first_batch(
            step_run.run, lambda batch, p=passes, x=share: sum(map(p, batch)) / len(batch) >= x
        )
        assert expected is not None, kind  # the test must be able to fail the other way too
        assert (step_run.verdict, step_run.met_at_step) == (MET, expected), kind


def test_validation_loss_on_a_trained_run(instructor, packs, assign, student, train_step):
    step = custom_step(instructor, packs, {"kind": "val_loss", "target": 2.0, "by_step": 400})
    assign(step.lesson)
    step_run = train_step(student, step)
    evals = step_run.run.eval_series()
    expected = next(s for s, v in zip(evals["step"], evals["val_loss"], strict=True)
                    if v is not None and v <= 2.0)
    assert (step_run.verdict, step_run.met_at_step) == (MET, expected)
