"""The starter lessons, end to end: each step's prepared run trains for real and its
challenge is met as written (by a student who follows the instructions)."""

import math

from lessons.challenges import MET, NOT_MET
from lessons.models import Lesson
from lessons.starter import LESSONS, load


def step_of(starters, key, position):
    return starters[key].steps.get(position=position)


def test_starter_lessons_load_with_the_packs_and_again_without_duplicates(packs):
    load(packs)
    load(packs)
    assert Lesson.objects.filter(author__isnull=True).count() == len(LESSONS)
    for spec in LESSONS:
        lesson = Lesson.objects.get(starter_key=spec["key"])
        assert lesson.steps.count() == len(spec["steps"])
        for step in lesson.steps.all():
            assert step.pack is not None, step
            if step.challenge:
                assert step.the_challenge.words()


def test_loss_curve_starts_at_the_uniform_guess_then_meets_its_target(
    starters, assign, student, train_step
):
    lesson = starters["loss-curve"]
    assign(lesson)
    first = train_step(student, step_of(starters, "loss-curve", 1))
    losses = first.run.step_series()["loss"]
    uniform = math.log(first.run.vocab_size)
    assert abs(losses[0] - uniform) < 0.25 * uniform  # the uniform guess, roughly
    assert first.verdict == MET  # no challenge: a finished run completes the step
    second = train_step(student, step_of(starters, "loss-curve", 2))
    assert second.verdict == MET, second.value
    assert second.met_at_step <= 600


def test_too_high_a_learning_rate_diverges_then_a_smaller_one_meets_the_target(
    starters, assign, student, train_step
):
    assign(starters["learning-rate"])
    diverged = train_step(student, step_of(starters, "learning-rate", 1))
    assert any(f["code"] in ("diverged", "not_learning") for f in diverged.run.findings)
    as_given = train_step(student, step_of(starters, "learning-rate", 2))
    assert as_given.verdict == NOT_MET  # the preset's 0.5 is the mistake to fix
    fixed = train_step(student, step_of(starters, "learning-rate", 2), learning_rate=0.01)
    assert fixed.verdict == MET, fixed.value


def test_a_previous_token_head_emerges(starters, assign, student, train_step):
    assign(starters["look-back"])
    step_run = train_step(student, step_of(starters, "look-back", 1))
    assert step_run.verdict == MET, step_run.value


def test_memorising_shows_a_gap_that_a_smaller_run_closes(starters, assign, student, train_step):
    assign(starters["memorising"])
    big = train_step(student, step_of(starters, "memorising", 2))
    assert big.verdict == NOT_MET, big.value
    small = train_step(
        student, step_of(starters, "memorising", 2), n_embd=16, n_layer=1, num_steps=300
    )
    assert small.verdict == MET, small.value


def test_load_packs_loads_the_starter_lessons(db):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("load_packs", stdout=out)
    assert "starter lesson look-back" in out.getvalue()
    assert set(Lesson.objects.values_list("starter_key", flat=True)) == {
        spec["key"] for spec in LESSONS}
    look_back = Lesson.objects.get(starter_key="look-back").steps.get()
    assert look_back.pack.slug == "leapfrog"
