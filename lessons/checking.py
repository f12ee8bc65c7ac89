"""Checking the challenges of lesson steps where a run's events are stored.

runs.signals.events_stored fires after each flush of a training run and after its terminal
event; `on_events_stored` then checks every pending StepRun of that run. A run that belongs
to no lesson costs one indexed query per flush. Each check reads only what was stored since
the last one (and the smoothing window before it), decides with the pure predicates of
lessons/challenges.py, and records "met at step k" once: a met or not-met verdict is never
changed. The panel's and the run page's lesson sockets watch the run and show it."""

import logging

from django.utils import timezone

from lessons import challenges
from lessons.challenges import MET, PENDING
from lessons.models import StepRun
from runs.diagnostics import SMOOTH_WINDOW
from runs.models import Kind, step_loss

log = logging.getLogger(__name__)


def on_events_stored(sender, run, finished=False, **kwargs):
    pending = list(
        StepRun.objects.filter(run_id=run.pk, verdict=PENDING).select_related("step")
    )
    for step_run in pending:
        check(step_run, run, finished=finished)


def loss_points(run, after):
    """[(step, loss)] of the steps after `after` − SMOOTH_WINDOW + 1 (the window before)."""
    rows = (
        run.events.filter(kind=Kind.STEP, step__gt=max(0, after - SMOOTH_WINDOW + 1))
        .annotate(loss=step_loss())
        .order_by("step")
        .values_list("step", "loss")
    )
    return list(rows)


def val_points(run, after=0):
    rows = run.events.filter(kind=Kind.EVAL, step__gt=after).order_by("step")
    return [(step, data.get("val_loss")) for step, data in rows.values_list("step", "data")]


def sample_batches(run, after, correct):
    """[(step, [passes])]: each batch's template checks, or its meaning checks (`correct`:
    the built-in pack's check, beyond the template)."""
    rows = run.events.filter(kind=Kind.SAMPLES, step__gt=after).order_by("step")
    spec = None
    if correct:
        from runs.page import builtin_spec

        spec = builtin_spec(run)
    batches = []
    for step, data in rows.values_list("step", "data"):
        follows = data.get("follows") or []
        if correct:
            texts = data.get("texts") or []
            passes = [None] * len(texts) if spec is None else [
                bool(ok) and spec.is_valid_line(text)
                for text, ok in zip(texts, follows or [False] * len(texts), strict=False)
            ]
        else:
            passes = follows
        batches.append((step, passes))
    return batches


def role_points(run, after):
    rows = (
        run.events.filter(kind=Kind.STEP, step__gt=after, data__has_key="head_roles")
        .order_by("step")
        .values_list("step", "data__head_roles")
    )
    return [(step, roles) for step, roles in rows if roles]


def verdict_for(challenge, run, after, finished):
    """The challenge's Verdict on what `run` stored after step `after`."""
    kind = challenge.kind
    if kind in ("train_loss", "fewest_steps"):
        return challenges.train_loss(
            loss_points(run, after), challenge.target, after=after,
            by_step=challenge.by_step, finished=finished,
        )
    if kind == "val_loss":
        return challenges.val_loss(
            val_points(run, after), challenge.target, after=after,
            by_step=challenge.by_step, finished=finished,
        )
    if kind in ("template_share", "correct_share"):
        batches = sample_batches(run, after, correct=kind == "correct_share")
        return challenges.share_at_least(batches, challenge.target, after=after,
                                         finished=finished)
    if kind == "head_role":
        return challenges.head_role(
            role_points(run, after), challenge.role, challenge.target,
            layer=challenge.layer, after=after, finished=finished,
        )
    if kind == "val_gap":
        if not finished:
            return challenges.Verdict(PENDING)
        losses = run.step_series()["loss"]
        return challenges.val_gap(losses, val_points(run), challenge.target, finished=True)
    raise ValueError(f"unknown challenge kind {kind!r}")


def check(step_run, run, *, finished=False):
    """Check `step_run`'s challenge on what `run` stored since the last check; store the
    verdict (met or not met only once). Returns the Verdict."""
    challenge = step_run.step.the_challenge
    run.refresh_from_db(fields=["current_step", "status"])
    finished = finished or run.is_finished
    newest = run.current_step
    if challenge is None:
        verdict = challenges.Verdict(MET if finished else PENDING, newest if finished else None)
    else:
        verdict = verdict_for(challenge, run, step_run.checked_step, finished)
    fields = {"checked_step": max(step_run.checked_step, newest)}
    if verdict.value is not None:
        fields["value"] = verdict.value
    if verdict.decided:
        fields["verdict"] = verdict.state
        if verdict.state == MET:
            fields["met_at_step"] = verdict.step
            fields["met_at"] = timezone.now()
    # only a pending row changes: a verdict is recorded once, whoever checks first
    StepRun.objects.filter(pk=step_run.pk, verdict=PENDING).update(**fields)
    for name, value in fields.items():
        setattr(step_run, name, value)
    if verdict.decided:
        # the lesson sockets (panel, run page) watch the run: its wake-up follows this
        log.info("challenge decided", extra={"run_id": run.pk, "verdict": verdict.state,
                                             "step": verdict.step})
    return verdict
