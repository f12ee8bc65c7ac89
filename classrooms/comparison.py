"""Two runs side by side: config diff, loss curves overlaid, samples, and the attention of
the same layer and head at the same step."""

import json

from django.urls import reverse

from runs.config import CONFIG_FIELDS
from runs.models import Kind, RunEvent, step_loss
from runs.page import newest_batch

COMPARE_COLOURS = ("#2f6fdb", "#d9480f")


def config_rows(a, b):
    """[(name, value in a, value in b, differs)] for every setting either run has."""
    names = [n for n in CONFIG_FIELDS if n in a.config or n in b.config]
    names += sorted((set(a.config) | set(b.config)) - set(names))
    rows = [("text", a.source_title, b.source_title, a.source_ref != b.source_ref)]
    for name in names:
        left, right = a.config.get(name), b.config.get(name)
        rows.append((name, left, right, left != right))
    return rows


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
        losses.append(loss)
    return steps, losses


def attention_at(run, step, layer, head):
    """(chars, base64 weights) of one head at `step` (the page's heatmap format), or None."""
    from runs.page import attention_heads, token_labels

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


def context(a, b, *, step=None, layer=None, head=None):
    curves = []
    for index, (run, colour) in enumerate(zip((a, b), COMPARE_COLOURS, strict=True)):
        steps, losses = loss_curve(run)
        curves.append(
            {
                "run": run.pk,
                "label": f"run {run.pk} ({run.owner.username})",
                "colour": colour,
                "url": reverse("runs:detail", args=[run.pk]),
                "steps": steps,
                "loss": losses,
                "flag": "",
                "dash": index == 1,  # so two identical curves both show
            }
        )
    baselines = {}  # vocabulary size -> (ln V, the runs with it)
    for run in (a, b):
        if run.vocab_size:
            baselines.setdefault(run.vocab_size, (run.baseline_loss, []))[1].append(run.pk)
    overlay = {
        "curves": curves,
        "baselines": [
            {
                "value": value,
                "label": f"ln({size}) random guess"
                + (f" (run {' and '.join(map(str, runs))})" if len(baselines) > 1 else ""),
            }
            for size, (value, runs) in sorted(baselines.items())
        ],
    }
    common = sorted(set(a.snapshot_steps()) & set(b.snapshot_steps()))
    if step not in common:
        step = common[-1] if common else None
    layers = min(a.config.get("n_layer", 1), b.config.get("n_layer", 1))
    heads = min(a.config.get("n_head", 1), b.config.get("n_head", 1))
    layer = min(max(layer or 0, 0), layers - 1)
    head = min(max(head or 0, 0), heads - 1)
    columns = []
    for run in (a, b):
        samples = run.samples()
        columns.append(
            {
                "run": run,
                "samples": samples[:8],
                **newest_batch(run, samples),
                "attention": attention_at(run, step, layer, head) if step is not None else None,
            }
        )
    return {
        "a": a,
        "b": b,
        "colours": COMPARE_COLOURS,
        "config_rows": config_rows(a, b),
        "overlay": overlay,
        "columns": columns,
        "common_steps": common,
        "step": step,
        "layer": layer,
        "head": head,
        "layer_choices": range(layers),
        "head_choices": range(heads),
    }
