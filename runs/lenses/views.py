"""The lenses page `/runs/<id>/lenses/`: a run's model at a stored step (`?step=`), read on a
text (`?text=`, default inputs.default_text) at a position (`?pos=`), with parts switched off
(`?off=h0.1&off=mlp0`). An htmx request (any change of the controls) gets the reading
partial back; the embedding map is its own fragment (`lenses/map/`), loaded after the page.

A value the lenses cannot read answers 400 (a step with no stored model 404) with the page's
controls and a message saying what to try; nothing is stored."""

import json

import numpy as np
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from runs.lenses.ablation import parse_ablation
from runs.lenses.embedding_map import embedding_map
from runs.lenses.inputs import default_text, model_for
from runs.lenses.reading import LensInputError, Reading, encode_text
from runs.lenses.roles import ROLES
from runs.lenses.timeline import timeline
from runs.page import visible_run
from runs.permissions import login_required_unless_showcase
from runs.views import smoothed_losses

MAX_QUERY_CHARS = 500  # a text longer than any block is refused without reading it all
TIMELINE_WIDTH, LOSS_HEIGHT = 1000, 90


@login_required_unless_showcase
@require_GET
def lenses(request, run_id):
    run = visible_run(request, run_id)
    steps = sorted(run.checkpoints.values_list("step", flat=True))
    context = {"run": run, "steps": steps, "roles": ROLES, "error": None, "map_json": None,
               "max_chars": int(run.config.get("block_size", 16)) - 1,
               "url": reverse("runs:lenses", args=[run.pk])}
    status = 200
    try:
        context.update(reading_context(run, steps, request.GET))
    except LensInputError as refusal:
        context.update(error=str(refusal), text=request.GET.get("text", "")[:MAX_QUERY_CHARS],
                       off=request.GET.getlist("off"), step=steps[-1] if steps else None)
        status = refusal.status
    context["heads"] = head_controls(run, context.get("off", []))
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "runs/lenses.html#reading", context, status=status)
    context.update(timeline_context(run), step_index=index_of(steps, context.get("step")))
    return render(request, "runs/lenses.html", context, status=status)


@login_required_unless_showcase
@require_GET
def lens_map(request, run_id):
    """The embedding map's data (every stored step), as the map's fragment."""
    run = visible_run(request, run_id)
    data = embedding_map(run)
    return render(request, "runs/lenses.html#map", {
        "run": run, "map_json": json.dumps(data, ensure_ascii=False) if data else "",
        "explained": data["explained"] if data else None,
    })


def query_number(query, name):
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise LensInputError(f"{name} must be a whole number (got “{raw[:20]}”).") from None


def reading_context(run, steps, query):
    if not steps:
        raise LensInputError(
            "No model is stored for this run yet: the lenses read the model kept with each "
            "snapshot. Wait for the first snapshot (it comes with the first step).", 404)
    step = query_number(query, "step")
    step = steps[-1] if step is None else step
    model = model_for(run, step) if step in steps else None
    if model is None:
        raise LensInputError(
            f"No model is stored for step {step}. The stored steps are "
            f"{', '.join(map(str, steps[:12]))}{'…' if len(steps) > 12 else ''}.", 404)
    text = query.get("text")
    text = default_text(run) if text is None else text[:MAX_QUERY_CHARS]
    tokens = encode_text(run, text)
    pos = query_number(query, "pos")
    positions = len(tokens) - 1
    pos = positions - 1 if pos is None else min(max(pos, 0), positions - 1)
    off = query.getlist("off")
    try:
        ablation = parse_ablation(off, model.config.n_layer, model.config.n_head)
    except ValueError as refusal:
        raise LensInputError(str(refusal)) from None
    reading = Reading(run, model, tokens, pos, ablation, step)
    return {
        "step": step,
        "text": text,
        "pos": pos,
        "off": ablation.parts,
        "ladder": reading.ladder(),
        "contributions": reading.contributions(),
        "ablation": reading.ablation_result(),
        "head_roles": reading.roles(),
        "rung_count": len(reading.inside.rung_names),
    }


def head_controls(run, off):
    """The ablation checkboxes: per layer, its attention block, its heads, its MLP block."""
    n_layer, n_head = int(run.config.get("n_layer", 1)), int(run.config.get("n_head", 1))
    return [
        {
            "layer": layer,
            "attn": {"value": f"attn{layer}", "off": f"attn{layer}" in off},
            "mlp": {"value": f"mlp{layer}", "off": f"mlp{layer}" in off},
            "heads": [
                {"head": h, "value": f"h{layer}.{h}", "off": f"h{layer}.{h}" in off}
                for h in range(n_head)
            ],
        }
        for layer in range(n_layer)
    ]


def index_of(steps, step):
    return steps.index(step) if step in steps else max(len(steps) - 1, 0)


def step_x(step, num_steps):
    return round(TIMELINE_WIDTH * (step - 1) / max(num_steps - 1, 1), 1)


def timeline_context(run):
    """The roles timeline drawn over the loss curve: SVG coordinates in a 1000-wide box."""
    found = timeline(run)
    num_steps = max(run.num_steps, 1)
    losses = [(s, v) for s, v in smoothed_losses(run, points=200) if v is not None]
    loss_points = ""
    if len(losses) > 1:
        values = np.array([v for _, v in losses])
        lo, hi = float(values.min()), float(values.max())
        span = (hi - lo) or 1.0
        loss_points = " ".join(
            f"{step_x(s, num_steps)},{4 + (LOSS_HEIGHT - 8) * (hi - v) / span:.1f}"
            for s, v in losses
        )
    steps, lanes = found["steps"], []
    for head in found["heads"]:
        segments = []
        for k, (step, role) in enumerate(zip(steps, head["roles"], strict=True)):
            end = steps[k + 1] if k + 1 < len(steps) else num_steps
            if role:
                x0, x1 = step_x(step, num_steps), step_x(end, num_steps)
                segments.append({"x": x0, "w": max(x1 - x0, 2), "role": role})
        lanes.append({**head, "segments": segments})
    return {
        "timeline": found,
        "timeline_lanes": lanes,
        "loss_points": loss_points,
        "loss_height": LOSS_HEIGHT,
        "num_steps": num_steps,
    }
