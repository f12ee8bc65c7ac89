"""What the run page shows of how a run learns: the probe line at any evaluation step, the
validation loss beside the training loss, the probe's loss per position over time, how
many snapshots the run keeps and why, and the diagnostics.

The panels of runs/page.py take a "snapshot-like" dict (tokens, targets, topk_ids,
topk_probs, target_probs, attention); `probe_snapshot` builds one for the probe line from an
evaluation event, so the probe and the step's own training line render the same way.
"""

import json
import math

import numpy as np
from django.urls import reverse

from engine.record import rounded
from runs.diagnostics import SMOOTH_WINDOW, findings_for, try_url
from runs.models import Kind, step_loss

PROBE, LINE = "probe", "line"


def has_probe(run):
    return run.events.filter(kind=Kind.EVAL).exists()


def scrub_steps(run, view):
    """The steps the scrubber moves through: the evaluation steps (the probe is stored at
    each), or the snapshot steps for a run from before probes."""
    steps = run.eval_steps() if view == PROBE else []
    return steps or run.snapshot_steps()


def nearest_before(steps, step):
    """The largest of the sorted `steps` that is <= step (the first when none is)."""
    index = max(0, int(np.searchsorted(steps, step, side="right")) - 1)
    return steps[index]


def probe_snapshot(run, step, snapshots):
    """The probe line at evaluation step `step`, shaped like a stored snapshot, with the
    attention of the nearest of the `snapshots` steps at or before it ("attn_step"); None
    if not stored."""
    evaluation = run.evaluation(step)
    probe = run.started_data().get("probe")
    if evaluation is None or probe is None:
        return None
    snapshot = {
        "step": step,
        "loss": evaluation["probe"]["loss"],
        "tokens": probe["tokens"],
        "targets": probe["targets"],
        **{key: evaluation["probe"][key] for key in ("topk_ids", "topk_probs", "target_probs")},
        "attn_weights": None,
        "attn_step": None,
    }
    earlier = [s for s in snapshots if s <= step]
    if earlier and (attention := run.probe_attention(earlier[-1])):
        snapshot["attn_weights"], snapshot["attn_step"] = attention, earlier[-1]
    return snapshot


def telling_position(first_probs, newest_probs):
    """A position worth looking at first: argmax over positions p ≥ 1 of newest[p] − first[p]
    (the target probability that grew most; position 0 reads BOS, whose next character is
    by design hard to predict); the latest such position on a tie; 0 for a 1-long line."""
    if len(newest_probs) < 2:
        return 0
    gains = [(newest or 0) - (first or 0) for first, newest in zip(first_probs, newest_probs,
                                                                      strict=True)]
    best = max(gains[1:])
    return max(p for p in range(1, len(gains)) if gains[p] == best)


def run_telling_position(run):
    """The position the pack names for its probe line (its "focus"), else telling_position
    between the run's first and newest evaluations of the probe: the same position whichever
    step is shown, so scrubbing keeps it."""
    probe = run.started_data().get("probe") or {}
    focus = probe.get("focus")
    if focus is not None and 0 <= focus < len(probe.get("targets", ())):
        return focus
    evals = run.events.filter(kind=Kind.EVAL).values_list("data__probe__target_probs", flat=True)
    first, newest = evals.order_by("step").first(), evals.order_by("-step").first()
    return 0 if first is None else telling_position(first, newest)


def learning_context(run, with_data=True):
    """The validation series and the probe's loss per position over time, as JSON for the
    loss chart and the heatmap (`with_data`: the page's first load; a push sends only the
    new points, evals_delta_context); what the chart's gap is; how many snapshots and why."""
    fields = ("step", "data__val_loss", "data__probe__losses")
    # only the keys drawn: an evaluation's top-k would be read for nothing
    rows = list(run.events.filter(kind=Kind.EVAL).order_by("step").values_list(
        *(fields if with_data else fields[:2])
    ))
    started = run.started_data()
    steps = [row[0] for row in rows]
    val = [row[1] for row in rows]
    context = {
        "probe": started.get("probe"),
        "split": {
            "train": started.get("train_docs"),
            "held_out": started.get("held_out_docs"),
            "val_docs": started.get("val_docs"),
        },
        "eval_count": len(steps),
        "gap": validation_gap(run, steps, val),
        **snapshot_budget(run, started),
    }
    if with_data:
        context.update(evals_data(run, rows, started))
    return context


def evals_delta_context(run, after_seq, upto_seq):
    """The evaluations stored after seq `after_seq` (up to `upto_seq`) as the JSON of
    learning_context, for the page to add to what it has (static/js/lab-data.js)."""
    rows = list(
        run.events.filter(kind=Kind.EVAL, seq__gt=after_seq, seq__lte=upto_seq)
        .order_by("step")
        .values_list("step", "data__val_loss", "data__probe__losses")
    )
    return evals_data(run, rows, run.started_data())


def evals_data(run, rows, started):
    """evals_json and heatmap_json of (step, val_loss, probe losses) rows."""
    steps = [step for step, _, _ in rows]
    val = [value for _, value, _ in rows]
    return {
        "evals_json": json.dumps(
            {"step": steps, "val_loss": rounded(val, 4) if val else []}, separators=(",", ":")
        ),
        "heatmap_json": json.dumps(
            {"steps": steps, "losses": [losses or [] for _, _, losses in rows],
             "chars": probe_labels(run, started), "uniform": run.baseline_loss},
            ensure_ascii=False, separators=(",", ":"),
        ),
    }


def probe_labels(run, started):
    from runs.page import token_labels

    probe = started.get("probe")
    if not probe or not run.vocab:
        return []
    labels = token_labels(run)
    return [labels[t] for t in probe["tokens"]]


def validation_gap(run, steps, val):
    """At the newest validation point: the validation loss, the smoothed training loss
    there (mean of the SMOOTH_WINDOW steps before it) and their difference; None when the
    run holds nothing out."""
    points = [(s, v) for s, v in zip(steps, val, strict=True) if v is not None]
    if not points:
        return None
    step, val_loss = points[-1]
    losses = (
        run.events.filter(kind=Kind.STEP, step__gt=step - SMOOTH_WINDOW, step__lte=step)
        .annotate(loss=step_loss())
        .values_list("loss", flat=True)
    )
    window = [x for x in losses if x is not None and math.isfinite(x)]
    if not window:
        return None
    train = sum(window) / len(window)
    return {"step": step, "val": val_loss, "train": train, "gap": val_loss - train}


def snapshot_budget(run, started):
    """How many snapshots the run keeps and why, in words for the page."""
    steps = started.get("snapshot_steps") or []
    num_params = started.get("num_params")
    stopped_early = run.is_finished and run.current_step < run.num_steps
    return {
        "kept_snapshots": len(run.snapshot_steps()),
        "planned_snapshots": len(steps),
        "num_params": num_params,
        "interval_set": started.get("snapshot_interval_set", False),
        "stopped_early": stopped_early,
    }


def diagnostics_context(run):
    """The run's findings, each with its "what to try" link (a new run prefilled)."""
    findings = findings_for(run)
    config = {k: v for k, v in run.config.items() if k != "probe_text"}
    return {
        "findings": [
            {**finding.to_dict(), "url": try_url(run.source_ref, finding, reverse("runs:new"),
                                                 config, run.classroom_id)}
            for finding in findings
        ]
    }
