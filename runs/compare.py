"""Two to six runs side by side (`/runs/compare/?run=<id>&run=<id>…`): their loss and
validation curves on one chart, their settings with the differences marked, the probe line's
predictions, their newest samples, the attention of one head at a step they share, and their
final figures in one table. Any run the viewer may see can be compared (runs.permissions)."""

import json
import math

from django.urls import reverse

from runs.config import CONFIG_FIELDS
from runs.diagnostics import findings_for
from runs.models import Kind, Run, RunEvent, step_loss
from runs.page import attention_heads, newest_batch, token_labels
from runs.permissions import can_view

MIN_RUNS, MAX_RUNS = 2, 6
# distinguishable in colour and for the common colour blindnesses (Okabe–Ito)
COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#8a6d00", "#56b4e9")
SAMPLES_SHOWN = 8


class CompareError(Exception):
    """Why these runs cannot be compared, in words; `status` is the HTTP answer."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def runs_to_compare(user, raw_ids):
    """The runs named by `raw_ids` (strings, in the order given, each once) that `user` may
    see; raises CompareError when they are not 2 to 6 runs the user may see."""
    ids = []
    for value in raw_ids:
        try:
            run_id = int(value)
        except ValueError:
            raise CompareError(f"“{value}” is not a run number.") from None
        if run_id not in ids:
            ids.append(run_id)
    if not MIN_RUNS <= len(ids) <= MAX_RUNS:
        picked = f" (you picked {len(ids)})" if ids else ""
        raise CompareError(f"Pick {MIN_RUNS} to {MAX_RUNS} different runs to compare{picked}.")
    found = {
        run.pk: run
        for run in Run.objects.filter(pk__in=ids).select_related("owner", "pack", "upload")
        if can_view(user, run)
    }
    missing = [run_id for run_id in ids if run_id not in found]
    if missing:
        names = " and ".join(f"run {run_id}" for run_id in missing)
        raise CompareError(f"There is no {names} that you may see.", status=404)
    return [found[run_id] for run_id in ids]


def is_diverged(run):
    return any(finding.code == "diverged" for finding in findings_for(run))


def loss_curve(run):
    rows = (
        RunEvent.objects.filter(run=run, kind=Kind.STEP)
        .order_by("step")
        .annotate(loss=step_loss())
        .values_list("step", "loss")
    )
    steps, losses = [], []
    for step, loss in rows:
        steps.append(step)
        losses.append(loss if loss is None or math.isfinite(loss) else None)
    return steps, losses


def curves(runs):
    """The overlay's data (static/js/classroom_overlay.js): each run's training loss (solid)
    and validation loss (dashed, the same colour), and the uniform-guess baselines."""
    lines = []
    for run, colour in zip(runs, COLOURS, strict=False):
        url = reverse("runs:detail", args=[run.pk])
        diverged = is_diverged(run)
        steps, losses = loss_curve(run)
        common = {"run": run.pk, "colour": colour, "url": url, "diverged": diverged,
                  "flag": "diverged" if diverged else ""}
        lines.append({**common, "label": f"run {run.pk}: training loss", "steps": steps,
                      "loss": losses})
        val = run.eval_series()
        points = [(s, v) for s, v in zip(val["step"], val["val_loss"], strict=True)
                  if v is not None]
        if points:
            lines.append({**common, "label": f"run {run.pk}: validation loss", "dash": True,
                          "steps": [s for s, _ in points], "loss": [v for _, v in points]})
    baselines = {}  # vocabulary size -> (ln V, the runs with it)
    for run in runs:
        if run.vocab_size:
            baselines.setdefault(run.vocab_size, (run.baseline_loss, []))[1].append(run.pk)
    return {
        "curves": lines,
        "baselines": [
            {
                "value": value,
                "label": f"ln({size}) uniform guess"
                + (f" (run {', '.join(map(str, ids))})" if len(baselines) > 1 else ""),
            }
            for size, (value, ids) in sorted(baselines.items())
        ],
    }


def config_rows(runs):
    """[(setting, [value per run], differs)] for the text, every setting and where a fork
    comes from; `differs` when not all runs have the same value."""
    def row(name, values):
        return (name, values, len({json.dumps(v, sort_keys=True) for v in values}) > 1)

    rows = [row("text", [run.source_title for run in runs])]
    for name in CONFIG_FIELDS:
        rows.append(row(name, [run.config.get(name) for run in runs]))
    rows.append(row("probe line", [run.config.get("probe_text") or "(held out, by the seed)"
                                   for run in runs]))
    rows.append(row("forked from", [
        f"run {run.parent_id} at step {run.fork_step}" if run.fork_step else "–" for run in runs
    ]))
    return rows


def probe_predictions(run):
    """The probe line at the run's last evaluation: per position, the character read, the
    next one (the target), the model's top guess and the probability it gave the target; and
    the mean of those probabilities. None before the first evaluation."""
    probe = run.started_data().get("probe")
    steps = run.eval_steps()
    if not probe or not steps:
        return None
    evaluation = run.evaluation(steps[-1])["probe"]
    labels = token_labels(run)
    positions = []
    for pos, (token, target) in enumerate(zip(probe["tokens"], probe["targets"], strict=True)):
        guess = evaluation["topk_ids"][pos][0]
        positions.append({
            "read": labels[token],
            "target": labels[target],
            "guess": labels[guess],
            "right": guess == target,
            "target_prob": evaluation["target_probs"][pos],
        })
    probs = [p["target_prob"] for p in positions]
    return {
        "step": steps[-1],
        "text": probe["text"],
        "positions": positions,
        "right": sum(p["right"] for p in positions),
        "mean_target_prob": sum(probs) / len(probs) if probs else None,
        "loss": evaluation.get("loss"),
    }


def final_figures(run):
    """The run's end in numbers: smoothed final loss, last and best validation loss."""
    val = run.eval_series()
    points = [(s, v) for s, v in zip(val["step"], val["val_loss"], strict=True) if v is not None]
    best = min(points, key=lambda p: p[1]) if points else None
    return {
        "last_val": points[-1][1] if points else None,
        "best_val": best[1] if best else None,
        "best_val_step": best[0] if best else None,
        "gap": points[-1][1] - run.final_loss if points and run.final_loss is not None else None,
        "diverged": is_diverged(run),
    }


def attention_at(run, step, layer, head):
    """(chars, base64 weights) of one head at `step` (the page's heatmap format), or None."""
    snapshot = run.snapshot(step)
    if not snapshot:
        return None
    for entry in attention_heads(snapshot["attn_weights"]):
        if entry["layer"] == layer and entry["head"] == head:
            labels = token_labels(run)
            chars = [labels[t] for t in snapshot["tokens"]]
            return {
                "chars": json.dumps(chars, ensure_ascii=False),
                "data": entry["data"],
                "size": len(chars),
            }
    return None


def context(runs, *, step=None, layer=None, head=None):
    common = sorted(set.intersection(*(set(run.snapshot_steps()) for run in runs)))
    if step not in common:
        step = common[-1] if common else None
    layers = min(run.config.get("n_layer", 1) for run in runs)
    heads = min(run.config.get("n_head", 1) for run in runs)
    layer = min(max(layer or 0, 0), layers - 1)
    head = min(max(head or 0, 0), heads - 1)
    columns = []
    for run, colour in zip(runs, COLOURS, strict=False):
        samples = run.samples()
        columns.append({
            "run": run,
            "colour": colour,
            "samples": samples[:SAMPLES_SHOWN],
            **newest_batch(run, samples),
            "probe": probe_predictions(run),
            "figures": final_figures(run),
            "attention": attention_at(run, step, layer, head) if step is not None else None,
        })
    return {
        "runs": runs,
        "columns": columns,
        "overlay": curves(runs),
        "config_rows": config_rows(runs),
        "common_steps": common,
        "step": step,
        "layer": layer,
        "head": head,
        "layer_choices": range(layers),
        "head_choices": range(heads),
    }
