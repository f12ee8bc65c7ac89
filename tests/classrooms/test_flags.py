"""The panel's flags (classrooms/flags.py), on hand-built curves and run states."""

import math
import random
from datetime import timedelta

import pytest
from django.utils import timezone

from classrooms import flags
from runs.models import Run
from tests.classrooms.conftest import make_run

BASELINE = math.log(30)  # 30 characters + BOS, roughly: a uniform guess scores ln V


def codes(verdicts):
    return [code for code, _ in verdicts]


def test_a_run_at_six_hundred_thousand_is_diverged_even_while_its_loss_falls():
    falling_from_huge = [6e5 - 1000 * i for i in range(10)]
    verdicts = flags.curve_verdicts(falling_from_huge, 120, BASELINE)
    assert codes(verdicts) == [flags.DIVERGED]
    assert "rising" not in verdicts[0][1] and "smaller learning rate" in verdicts[0][1]


def test_the_issue_case_loss_99419_by_step_120_is_flagged():
    assert codes(flags.curve_verdicts([99_419.0] * 10, 120, BASELINE)) == [flags.DIVERGED]


def test_nan_or_inf_is_diverged():
    assert codes(flags.curve_verdicts([2.0, None], 5, BASELINE)) == [flags.DIVERGED]
    assert codes(flags.curve_verdicts([2.0, math.inf], 5, BASELINE)) == [flags.DIVERGED]


def test_stuck_at_the_uniform_guess_is_not_learning_after_fifty_steps():
    stuck = [BASELINE * 1.01] * 10
    assert flags.curve_verdicts(stuck, flags.EARLY_STEPS - 1, BASELINE) == []
    verdict = flags.curve_verdicts(stuck, flags.EARLY_STEPS, BASELINE)
    assert codes(verdict) == [flags.NOT_LEARNING] and "uniform guess" in verdict[0][1]


def test_a_learning_run_is_not_flagged_through_its_noise():
    rng = random.Random(3)
    for step in range(1, 1200, 7):  # as the panel sees it, push by push
        trend = 0.6 + (BASELINE - 0.6) * math.exp(-step / 120)
        recent = [trend * rng.uniform(0.65, 1.35) for _ in range(10)]
        if step >= flags.EARLY_STEPS and trend < BASELINE * 0.9:
            assert flags.curve_verdicts(recent, step, BASELINE) == [], step


@pytest.mark.django_db
def test_state_flags_say_why(student, settings):
    settings.LAB_HEARTBEAT_STALE_SECONDS = 30
    failed = make_run(student, status=Run.Status.FAILED)
    Run.objects.filter(pk=failed.pk).update(error="worker lost")
    failed.refresh_from_db()
    assert flags.state_flags(failed) == [(flags.FAILED, "failed: worker lost")]
    quiet = make_run(student)
    Run.objects.filter(pk=quiet.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=20))
    quiet.refresh_from_db()
    (verdict,) = flags.state_flags(quiet)
    assert verdict[0] == flags.STALLED and "no word from its worker for 20 s" in verdict[1]
    assert flags.state_flags(make_run(student, status=Run.Status.QUEUED)) == []


@pytest.mark.django_db
def test_a_finished_diverged_run_keeps_its_flag(student):
    run = make_run(student, losses=[5e5] * 30)
    Run.objects.filter(pk=run.pk).update(status=Run.Status.COMPLETED, final_loss=5e5)
    run.refresh_from_db()
    assert codes(flags.flags_for(run, [5e5] * 10)) == [flags.DIVERGED]
