"""The panel's flags (classrooms/flags.py): the run page's diagnostics on the last losses
of a running run, the findings stored with a finished one, and the run's state."""

import math
import random
from datetime import timedelta

import pytest
from django.utils import timezone

from classrooms import flags
from runs import diagnostics
from runs.models import Kind, Run
from tests.classrooms.conftest import make_run

VOCAB = 30  # a uniform guess scores ln 30 = 3.40


def codes(verdicts):
    return [code for code, _ in verdicts]


def test_a_run_at_six_hundred_thousand_is_diverged_even_while_its_loss_falls():
    falling_from_huge = [6e5 - 1000 * i for i in range(20)]
    verdicts = flags.curve_verdicts(falling_from_huge, 120, VOCAB, 1000)
    assert codes(verdicts) == [flags.DIVERGED]
    assert "rising" not in verdicts[0][1] and "ten times smaller" in verdicts[0][1]


def test_the_issue_case_loss_99419_by_step_120_is_flagged_and_early():
    assert codes(flags.curve_verdicts([99_419.0] * 20, 120, VOCAB, 1000)) == [flags.DIVERGED]
    assert codes(flags.curve_verdicts([3.0] * 5 + [9e4] * 10, 15, VOCAB, 1000)) == ["diverged"]


def test_nan_or_inf_is_diverged():
    assert codes(flags.curve_verdicts([2.0, None], 5, VOCAB, 100)) == [flags.DIVERGED]
    assert codes(flags.curve_verdicts([2.0, math.inf], 5, VOCAB, 100)) == [flags.DIVERGED]


def test_stuck_at_the_uniform_guess_is_not_learning_as_the_diagnostics_say():
    stuck = [math.log(VOCAB) * 1.01] * 20
    assert flags.curve_verdicts(stuck, 99, VOCAB, 150) == []
    verdict = flags.curve_verdicts(stuck, 100, VOCAB, 150)
    assert codes(verdict) == [flags.NOT_LEARNING]
    # the same verdict as the run page's, on the whole curve
    whole = diagnostics.not_learning([3.0] * 80 + stuck, VOCAB, 150)
    assert whole is not None and whole.code == verdict[0][0]


def test_a_learning_run_is_not_flagged_through_its_noise():
    rng = random.Random(3)
    baseline = math.log(VOCAB)
    for step in range(20, 1200, 7):  # as the panel sees it, push by push
        trend = 0.6 + (baseline - 0.6) * math.exp(-step / 120)
        recent = [trend * rng.uniform(0.65, 1.35) for _ in range(20)]
        if trend < baseline * 0.8:
            assert flags.curve_verdicts(recent, step, VOCAB, 1200) == [], step


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
def test_a_finished_diverged_run_keeps_its_stored_findings(student):
    run = make_run(student, losses=[5e5] * 30)
    assert run.finish(Kind.COMPLETED, final_loss=5e5)
    run.refresh_from_db()
    assert [f["code"] for f in run.findings] == ["diverged"]
    assert codes(flags.flags_for(run, [])) == [flags.DIVERGED]  # no losses read again
