"""The live run page `/runs/<id>/`: the view, its fragments, and what the socket pushes.

One template, templates/runs/detail.html; every live piece is a `{% partialdef %}` with a
stable id. The first page load renders them inline; `render_live` renders the same
partials with `hx-swap-oob="true"` for the websocket consumer, so both are the same HTML.

The context builders below read the run through its model methods (runs/models.py) and
turn the stored snapshot dicts (engine.StepRecord.to_snapshot()) into what the template
shows: characters instead of ids, hits and misses, top-k bars, and compact attention data.
"""

import json
import time

import numpy as np
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET
from django_htmx.http import replace_url

from engine.record import rounded
from runs.evaluation import compact_attention
from runs.fork import lineage
from runs.models import TERMINAL_KINDS, Kind, RunEvent
from runs.permissions import can_cancel, login_required_unless_showcase, viewable_run
from runs.probe_view import (
    LINE,
    PROBE,
    diagnostics_context,
    evals_delta_context,
    has_probe,
    learning_context,
    nearest_before,
    probe_snapshot,
    run_telling_position,
    scrub_steps,
)

# How whitespace shows in the token strip, the top-k bars and the heatmap labels; BOS is
# spelled out (the engine's "␂" is missing from many fonts).
VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥"}
BOS_LABEL = "BOS"
SAMPLES_SHOWN = 200  # the page lists the newest this many; the export has them all


# --- views ---------------------------------------------------------------------------------


def visible_run(request, run_id):
    return viewable_run(request, run_id)


@login_required_unless_showcase
@require_GET
def run_detail(request, run_id):
    """The whole page. `?step=N` pins the snapshot panels to step N (else they follow the
    newest step); `?pos=P` selects a token position; `?view=line` shows the step's own
    training line instead of the probe line."""
    run = visible_run(request, run_id)
    step, pos = query_int(request, "step"), query_int(request, "pos")
    view = query_view(request)
    context = {
        **page_context(run),
        **snapshot_context(run, step=step, pos=pos, following=step is None, view=view),
        "can_cancel": can_cancel(request.user, run) and run.is_active,
        "lineage": lineage(run, request.user),
    }
    return render(request, "runs/detail.html", context)


@login_required_unless_showcase
@require_GET
def snapshot_fragment(request, run_id):
    """The snapshot panels (token strip, top-k, attention) for the scrubber's choice:
    `?i=` (an index into the snapshot steps, from the range input) or `?step=`. Without
    either it returns to following the newest snapshot, and the scrubber comes along."""
    run = visible_run(request, run_id)
    view = query_view(request)
    step = query_int(request, "step")
    index = query_int(request, "i")
    if index is not None:
        steps = scrub_steps(run, resolved_view(run, view))
        if steps:
            step = steps[min(max(index, 0), len(steps) - 1)]
    following = step is None
    pos = query_int(request, "pos")  # the page keeps the selected position while scrubbing
    context = snapshot_context(run, step=step, pos=pos, following=following, view=view)
    html = render_to_string("runs/detail.html#snapshot", context, request)
    if following or request.GET.get("scrubber") == "1":
        html += render_to_string("runs/detail.html#scrubber", {**context, "oob": True}, request)
    kept_pos = None if pos is None else context["pos"]
    url = page_url(run, context["step"], kept_pos, following, context["view"])
    return replace_url(HttpResponse(html), url)


@login_required_unless_showcase
@require_GET
def token_fragment(request, run_id, step, pos):
    """The token strip with position `pos` selected and its top-k bars (`?live=1` when the
    page follows the newest snapshot, so the address keeps following)."""
    run = visible_run(request, run_id)
    view = resolved_view(run, query_view(request))
    if step not in scrub_steps(run, view):
        raise Http404("nothing stored at this step")
    following = request.GET.get("live") == "1"
    context = snapshot_context(run, step=step, pos=pos, following=following, view=view)
    response = render(request, "runs/detail.html#tokens", context)
    return replace_url(response, page_url(run, step, context["pos"], following, view))


def query_view(request):
    """?view=line: the step's own training line; anything else: the probe line."""
    return LINE if request.GET.get("view") == LINE else None


def resolved_view(run, view):
    """The probe line unless asked otherwise (or the run is from before probes)."""
    return view or (PROBE if has_probe(run) else LINE)


def query_int(request, name):
    try:
        return int(request.GET[name])
    except (KeyError, ValueError):
        return None


def page_url(run, step, pos, following, view=None):
    query = [f"view={LINE}"] if view == LINE else []
    if not following and step is not None:
        query.append(f"step={step}")
    if pos is not None:
        query.append(f"pos={pos}")
    url = reverse("runs:detail", args=[run.id])
    return f"{url}?{'&'.join(query)}" if query else url


# --- what the socket pushes --------------------------------------------------------------


def render_live(run, since=None):
    """The page's live partials as out-of-band HTML for the websocket.

    `since` is the seq of the newest event this socket has been sent (None: nothing yet,
    send the whole current state). `run` is freshly read: what is rendered stops at its
    `last_seq` and `current_step`, so passing `run.last_seq` as the next `since` neither
    skips nor repeats an event. With `since`, only what changed is rendered: the status
    line always, the new steps' scalars as a small delta, the snapshot panels and the
    scrubber when a snapshot arrived, the new samples (prepended) when samples arrived.
    """
    return render_push(run, since)[0]


HEAVY_KINDS = {Kind.EVAL, Kind.SNAPSHOT, *TERMINAL_KINDS}


def render_push(run, since=None, steps=True, panels=True):
    """(HTML, whether the heavy panels have news) of the events after seq `since`: its
    steps part (the status line, the new steps' losses, new samples) and its panels part
    (what a snapshot, an evaluation or the run's end changes: the probe line's guesses and
    attention, the validation and probe points, the heatmap, the diagnostics; most of the
    rendering and bytes). render_live is both; a run's audience (runs.fanout) sends the
    steps with every push and the panels apart, at most once a second, from the seq it
    last sent them at, so a class watching a fast run sees every step at once."""
    # the status line is in the steps part only: the panels part does not read the queue
    context = {**(status_context(run) if steps else {}), "run": run, "oob": True}
    parts = [render_to_string("runs/detail.html#status", context)] if steps else []
    if since is None:
        if steps:
            context.update(series_context(run))
            parts.append(render_to_string("runs/detail.html#series", context))
        changed = {Kind.SNAPSHOT, Kind.SAMPLES}
    else:
        window = RunEvent.objects.filter(run=run, seq__gt=since, seq__lte=run.last_seq)
        changed = set(window.exclude(kind=Kind.STEP).order_by().values_list("kind", flat=True))
    ended = changed.intersection(TERMINAL_KINDS)
    if panels:
        if since is None:  # the whole evaluation series; after it, only the new points
            context.update(learning_context(run))
            parts.append(render_to_string("runs/detail.html#evals", context))
        elif Kind.EVAL in changed:
            context.update(evals_delta_context(run, since, run.last_seq))
            parts.append(render_to_string("runs/detail.html#evals_delta", context))
        if since is None or Kind.EVAL in changed or ended:
            if since is not None:
                context.update(learning_context(run, with_data=False))
            for name in ("learning", "snapshots_note"):
                parts.append(render_to_string(f"runs/detail.html#{name}", context))
        if since is None or Kind.SNAPSHOT in changed or ended:  # reads every step: rarely
            context.update(diagnostics_context(run))
            parts.append(render_to_string("runs/detail.html#diagnostics", context))
    if steps and since is not None:
        delta = run.step_series(after_seq=since, upto_seq=run.last_seq)
        if delta["step"]:
            context["series_json"] = series_json(delta)
            parts.append(render_to_string("runs/detail.html#series_delta", context))
    # a new snapshot, or the end of the run ("Following live" becomes "Last snapshot"), or
    # the probe line at a new evaluation: between snapshots its attention maps are those
    # already on the page, kept there (hx-preserve) rather than sent again
    if panels and changed.intersection(HEAVY_KINDS):
        context.update(snapshot_context(run, following=True))
        context["attention_kept"] = since is not None and Kind.SNAPSHOT not in changed
        parts.append(render_to_string("runs/detail.html#scrubber", context))
        parts.append(render_to_string("runs/detail.html#snapshot", context))
    if steps and Kind.SAMPLES in changed:
        earlier = run.events.filter(kind=Kind.SAMPLES, seq__lte=since or 0)
        if since is not None and earlier.exists():  # the list is on the page: add on top
            new = set(window.filter(kind=Kind.SAMPLES).order_by().values_list("step", flat=True))
            context.update(samples_context(run, steps=new), oob_headline=True)
            parts.append(render_to_string("runs/detail.html#samples_headline", context))
            parts.append(render_to_string("runs/detail.html#samples_new", context))
        else:
            context.update(samples_context(run, upto_step=run.current_step))
            parts.append(render_to_string("runs/detail.html#samples", context))
    return "".join(parts), bool(changed.intersection(HEAVY_KINDS))


# --- context builders ----------------------------------------------------------------------


def page_context(run):
    """Everything on the page except the snapshot panels."""
    return {
        "run": run,
        "socket_path": f"/ws/runs/{run.id}/",
        "config_items": [(name, run.config[name]) for name in sorted(run.config)
                         if name != "history"],  # a fork's replay schedule: see its lineage
        **status_context(run),
        **series_context(run),
        **samples_context(run),
        **learning_context(run),
        **diagnostics_context(run),
    }


def status_context(run):
    from runs.queue import queue_estimate

    queue_position, queue_wait = queue_estimate(run)
    progress = 100 * run.current_step / run.num_steps if run.num_steps else 0
    resumes = []
    if run.worker_losses:
        resumes = list(run.events.filter(kind=Kind.RESUMED).order_by("seq").values_list(
            "step", flat=True
        ))
    return {
        "progress": f"{min(progress, 100):.1f}",
        "elapsed": format_duration(run.elapsed_seconds()),
        "steps_per_second": run.steps_per_second(),
        "queue_position": queue_position,
        "queue_wait": format_duration(queue_wait) if queue_wait is not None else None,
        "resumed_at_steps": resumes,  # where each lost worker stopped
        "now_ts": int(time.time()),  # the server's clock, for the stalled-worker notice
    }


def series_context(run):
    return {"series_json": series_json(run.step_series())}


def series_json(series):
    """Compact JSON of a step series for a data attribute: rounded to what a curve shows."""

    def short(values, digits):
        return rounded(values, digits) if len(values) else []

    return json.dumps(
        {
            "step": list(series["step"]),
            "loss": short(series["loss"], 4),
            "lr": short(series["lr"], 3),
            "grad_norms": {g: short(v, 3) for g, v in series["grad_norms"].items()},
            "update_norms": {g: short(v, 3) for g, v in series["update_norms"].items()},
        },
        separators=(",", ":"),
    )


def samples_context(run, upto_step=None, steps=None):
    """The newest SAMPLES_SHOWN samples (those of `steps` only, or up to `upto_step`) and
    the template headline of the newest batch."""
    every = run.samples()
    samples = [
        sample
        for sample in every
        if (steps is None or sample["step"] in steps)
        and (upto_step is None or sample["step"] <= upto_step)
    ]
    spec = builtin_spec(run)
    return {
        **newest_batch(run, every),
        "samples": [with_verdict(spec, sample) for sample in samples[:SAMPLES_SHOWN]],
        "samples_shown": SAMPLES_SHOWN,
        "samples_hidden": max(0, len(samples) - SAMPLES_SHOWN),
        "adherence_pattern": run.adherence_pattern,
        "template_words": spec.template if spec else "",
    }


def with_verdict(spec, sample):
    """The sample with `not_right`: why a sample that follows a built-in pack's template is
    still wrong ("1+2 is 3, not 11"), else "" (right, no template followed, or a pack without
    a meaning check): the list must not tick a wrong sum as if it were right."""
    reason = ""
    if spec is not None and sample["follows"]:
        try:
            spec.check_line(sample["text"])
        except ValueError as exc:
            reason = str(exc)
    return {**sample, "not_right": reason}


def newest_batch(run, samples):
    """The headline of the newest batch in `samples` (run.samples(), newest first):
    follow_count of sample_count follow the template (samples of a pack without one do
    not count: 0 of 0), correct_count of them are also right (None where the pack has
    no such check, or there is nothing to count), and copied_count of the batch_count
    samples copy a training line verbatim (None for runs from before copies were checked)."""
    batch = [s for s in samples if s["step"] == samples[0]["step"]] if samples else []
    follows = [s["follows"] for s in batch if s["follows"] is not None]
    copied = [s["copied"] for s in batch if s.get("copied") is not None]
    spec = builtin_spec(run)
    return {
        "follow_count": sum(follows),
        "sample_count": len(follows),
        "correct_count": correct_count(run, [s["text"] for s in batch]) if follows else None,
        "batch_count": len(batch),
        "copied_count": sum(copied) if copied else None,
        "correct_means": spec.correct_means if spec and follows else "",
    }


def builtin_spec(run):
    """The built-in pack the run trains on (packs_app.builtin), or None (custom packs,
    uploads)."""
    from packs_app.builtin import BUILTIN_PACKS

    return BUILTIN_PACKS.get(run.pack.slug) if run.pack_id and run.pack.builtin else None


def correct_count(run, texts):
    """How many of `texts` are also right by the meaning of a built-in pack (legal chess
    moves, right sums, known tables...), beyond following its template; None for packs
    without such a check (custom packs, uploads)."""
    spec = builtin_spec(run)
    if spec is None:
        return None
    return sum(spec.is_valid_line(text) for text in texts)


def snapshot_context(run, step=None, pos=None, following=True, view=None):
    """The token strip, top-k and attention at `step` (the newest stored when None; an
    unstored step shows the nearest stored one before it), of the probe line (`view` None
    or PROBE, when the run has one) or of the step's own training line (LINE, at the
    nearest snapshot)."""
    view = resolved_view(run, view)
    steps = scrub_steps(run, view)
    context = {"run": run, "snapshot_steps": steps, "following": following,
               "snapshot": None, "view": view, "has_probe": view == PROBE,
               "probe": run.started_data().get("probe")}  # where the probe line comes from
    if not steps:
        return {**context, "step": None, "step_index": 0, "pos": None}
    if step is None:
        index = len(steps) - 1
    else:
        index = max(0, int(np.searchsorted(steps, step, side="right")) - 1)
    step = steps[index]
    snapshots = run.snapshot_steps() if view == PROBE else steps
    if view == PROBE:
        snapshot = probe_snapshot(run, step, snapshots)
        line_step = nearest_before(snapshots or [None], step)
    else:
        line_step = nearest_before(snapshots, step)
        snapshot = run.snapshot(line_step)
        context["has_probe"] = has_probe(run)
    if snapshot is None:
        # a fork's copied steps can arrive before its worker has said how it started (the
        # probe line): the page shows the curves and waits for the first snapshot
        return {**context, "step": None, "step_index": 0, "pos": None}
    labels = token_labels(run)
    bos = len(labels) - 1
    tokens = [
        {
            "pos": i,
            "text": labels[token],
            "is_bos": token == bos,
            "target": labels[target],
            "target_is_bos": target == bos,
            "hit": snapshot["topk_ids"][i][0] == target,
            "target_prob": snapshot["target_probs"][i] or 0.0,
        }
        for i, (token, target) in enumerate(
            zip(snapshot["tokens"], snapshot["targets"], strict=True)
        )
    ]
    if pos is None and view == PROBE:
        pos = run_telling_position(run)
    pos = 0 if pos is None else min(max(pos, 0), len(tokens) - 1)
    attention = snapshot.get("attn_weights")
    return {
        **context,
        "step": step,
        "step_index": index,
        "line_step": line_step,
        "attn_step": snapshot.get("attn_step", line_step),
        "snapshot": snapshot,
        "tokens": tokens,
        "hits": sum(t["hit"] for t in tokens),
        "pos": pos,
        "selected": tokens[pos],
        "topk": topk_bars(snapshot, pos, labels),
        "inspect_url": reverse("runs:opview", args=[run.id, line_step, pos])
        if view == LINE else None,
        "chars_json": json.dumps([t["text"] for t in tokens], ensure_ascii=False),
        "heads": attention_heads(attention) if attention is not None else [],
        # names what the maps show: a push between snapshots keeps the element of this id
        "attention_id": f"run-attention-{run.id}-{view}-{snapshot.get('attn_step', line_step)}",
    }


def token_labels(run):
    """Display text of every token id: characters with whitespace made visible, then BOS."""
    return [VISIBLE.get(ch, ch) for ch in run.vocab] + [BOS_LABEL]


def topk_bars(snapshot, pos, labels):
    target, bos = snapshot["targets"][pos], len(labels) - 1
    bars = [
        {"text": labels[i], "is_bos": i == bos, "prob": p or 0.0, "is_target": i == target}
        for i, p in zip(snapshot["topk_ids"][pos], snapshot["topk_probs"][pos], strict=True)
    ]
    if not any(bar["is_target"] for bar in bars):
        # the target is outside the top k: show it last, so the miss is visible
        prob = snapshot["target_probs"][pos] or 0.0
        bars.append(
            {
                "text": labels[target],
                "is_bos": target == bos,
                "prob": prob,
                "is_target": True,
                "outside": True,
            }
        )
    for bar in bars:
        bar["percent"] = f"{100 * bar['prob']:.1f}"
    return bars


def attention_heads(attn_weights):
    """One entry per layer and head: the causal (lower-triangle) weights of its T×T map,
    row by row, as base64 bytes (weight × 255), from a stored snapshot's attention (compact,
    see runs.evaluation.compact_attention, or the full nested lists of older runs)."""
    if not isinstance(attn_weights, dict):
        if np.asarray(attn_weights).ndim != 4 or np.asarray(attn_weights).shape[-1] == 0:
            return []
        attn_weights = compact_attention(attn_weights)
    return [{"layer": layer, "head": head, "data": data}
            for layer, head, data in attn_weights["heads"]]


def format_duration(seconds):
    if seconds is None:
        return "–"
    if seconds < 10:  # runs last seconds: tenths matter here
        return f"{seconds:.1f} s"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"
