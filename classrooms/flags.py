"""The panel's flags: why a run needs the instructor's attention, in plain words.

The one place the panel asks about a run's health. Curve verdicts come from the run page's
diagnostics (runs.diagnostics): a finished run shows the findings stored with it (so a
diverged run stays marked); a running one is checked on its last SMOOTH_WINDOW losses, read
for the whole class in one query (reading every step of thirty runs on each push would be
too slow). Run states (worker quiet or lost, failed, no run yet) are read from the run row.

A flag is (code, words): code is a diagnostics code or one of STATE_CODES (the table's
filter and the tests read it); words are what the instructor reads.
"""

from django.conf import settings
from django.utils import timezone

from runs import diagnostics

STALLED, NOT_STARTED, FAILED = "stalled", "not_started", "failed"
DIVERGED, NOT_LEARNING = "diverged", "not_learning"
STATE_CODES = (STALLED, NOT_STARTED, FAILED)
# the "needs attention" filter: the run blew up, stands still, or never started
ATTENTION_CODES = (DIVERGED, NOT_LEARNING, *STATE_CODES)
WINDOW = diagnostics.SMOOTH_WINDOW  # the losses read per running run


def mean(values):
    return sum(values) / len(values) if values else None


def words_of(finding):
    """ "Diverged — Training blew up: its smoothed loss is …. Try a learning rate …" """
    first = finding.explanation.split(". ")[0].rstrip(".")
    return f"{finding.title} — {first}. {finding.what_to_try}"


def curve_verdicts(recent, step, vocab_size, num_steps):
    """[(code, words)] of a running run at `step` whose last losses (up to WINDOW, oldest
    first) are `recent`: runs.diagnostics' diverged and not_learning checks, which read
    only the last SMOOTH_WINDOW losses and how many steps are done."""
    if not vocab_size or not step:
        return []
    finding = diagnostics.diverged(recent, vocab_size)
    if finding is None and recent:
        # not_learning counts the steps done as len(losses): pad to `step` with a value
        # its mean of the last SMOOTH_WINDOW losses never reads
        done = [recent[0]] * max(0, step - len(recent)) + list(recent)
        finding = diagnostics.not_learning(done, vocab_size, num_steps)
    return [(finding.code, words_of(finding))] if finding else []


def finding_flags(run, recent):
    """A finished run: its stored findings (every check); a running one: curve_verdicts."""
    if run.is_finished and run.findings is not None:
        return [(f.code, words_of(f)) for f in map(diagnostics.Finding.from_dict, run.findings)]
    return curve_verdicts(recent, run.current_step, run.vocab_size, run.num_steps)


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
    Finished runs keep their findings: a diverged run stays marked."""
    return state_flags(run, now=now) + finding_flags(run, recent)
