"""The panel's flags: why a run needs the instructor's attention, in plain words.

This is the one place the panel asks about a run's health. Curve verdicts (diverged, not
learning) come from the run page's diagnostics (`runs.diagnostics`, issue 12) when that
module is present; until it lands, `curve_verdicts` below answers with the two checks the
panel needs, so switching is this one function. Run states (waiting, worker lost, stalled)
are read from the run row, which the diagnostics do not cover.

A flag is (code, words): code is one of FLAG_CODES (the table's filter and the tests read
it), words is what the instructor reads.
"""

import math

from django.conf import settings
from django.utils import timezone

DIVERGED, NOT_LEARNING, STALLED, NOT_STARTED, FAILED = (
    "diverged",
    "not_learning",
    "stalled",
    "not_started",
    "failed",
)
FLAG_CODES = (DIVERGED, NOT_LEARNING, STALLED, NOT_STARTED, FAILED)
ATTENTION_CODES = FLAG_CODES  # what the "needs attention" filter keeps

# Provisional curve checks (replaced by runs.diagnostics once it lands):
EARLY_STEPS = 50  # a verdict needs this many steps: "within about 50 steps"
WINDOW = 10  # steps averaged: one document a step makes single losses noisy
DIVERGED_FACTOR = 2.0  # smoothed loss above twice the uniform guess: the model got worse
UNIFORM_MARGIN = 0.05  # within 5 % of the uniform guess after EARLY_STEPS: not learning


def mean(values):
    return sum(values) / len(values) if values else None


def curve_verdicts(recent, step, baseline):
    """[(code, words)] for a run at `step` whose last losses (up to WINDOW of them, oldest
    first) are `recent`, against the uniform-guess loss `baseline` = ln(vocabulary size)
    (None: unknown).

    diverged:     a NaN/inf loss, or the mean of the last WINDOW losses above
                  DIVERGED_FACTOR · baseline (a uniform guess scores baseline; worse than
                  twice that means the updates are too large).
    not learning: after EARLY_STEPS steps, the mean of the last WINDOW losses still within
                  UNIFORM_MARGIN of baseline (the model still guesses every character alike).
    """
    try:
        from runs import diagnostics  # the run page's checks, when present
    except ImportError:
        diagnostics = None
    if diagnostics is not None and hasattr(diagnostics, "panel_verdicts"):
        return diagnostics.panel_verdicts(recent, step, baseline)
    if any(loss is None or not math.isfinite(loss) for loss in recent):
        return [(DIVERGED, "diverged: the loss became NaN or infinite")]
    average = mean(recent)
    if average is None or not baseline:
        return []
    if average > DIVERGED_FACTOR * baseline:
        return [
            (
                DIVERGED,
                f"diverged: loss {average:,.0f}, worse than a uniform guess "
                f"({baseline:.2f}); try a smaller learning rate",
            )
        ]
    if step >= EARLY_STEPS and abs(average - baseline) <= UNIFORM_MARGIN * baseline:
        return [
            (
                NOT_LEARNING,
                f"not learning: loss {average:.2f} after {step} steps is still the "
                f"uniform guess ({baseline:.2f})",
            )
        ]
    return []


def state_flags(run, *, now=None):
    """[(code, words)] from where the run is, not from its curve. (A queued run is not
    flagged: the table shows its place in the queue; a student with no run is.)"""
    now = now or timezone.now()
    if run.status == run.Status.FAILED:
        return [(FAILED, f"failed: {run.error or 'no reason was recorded'}")]
    if run.status == run.Status.RUNNING and run.heartbeat_at:
        quiet = (now - run.heartbeat_at).total_seconds()
        stale = settings.LAB_HEARTBEAT_STALE_SECONDS
        if quiet > stale / 2:
            return [
                (
                    STALLED,
                    f"stalled: no word from its worker for {quiet:.0f} s (the worker may be "
                    f"lost; after {stale} s the run is resumed or failed with the reason)",
                )
            ]
    return []


def flags_for(run, recent, *, now=None):
    """Every flag of `run` (a Run; `recent` its last stored step losses, oldest first).
    Finished runs keep their curve flags: a diverged run stays marked."""
    return state_flags(run, now=now) + curve_verdicts(recent, run.current_step, run.baseline_loss)
