"""The playground `/runs/<id>/playground/`: type to the model at any stored step, sample it,
and play "you vs the model".

One template, templates/runs/playground.html. Its live pieces are partials swapped by htmx:
`reading` (the next-character distribution, the attention of every head and how surprised
the model was by each character) follows the prompt box, debounced; `generation` answers
"Next character", "Generate to the end" and "New seed"; `game` is a round of guesses. Every
request is a read except a round's last guess, which keeps the student's best score: nothing
is stored per keystroke. Whoever may see the run may use its playground (visible_run).
"""

import json
import secrets

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from runs.models import PlaygroundScore
from runs.page import attention_heads, token_labels, visible_run
from runs.playground_forms import GenerateForm, PromptForm, unknown_chars_error
from runs.playground_game import (
    MAX_ROUND,
    ROUND_LENGTH,
    best_scores,
    game_context,
    new_round,
)
from runs.playground_model import draw_next, generate, model_for, read, stored_steps
from runs.playground_ops import tokens_url

TOP_K_SHOWN = 10  # bars of the next-character distribution; "Show every character" for all
DRAWN_SHOWN = 12  # bars of the distribution a character was drawn from
# a character's probability -> how surprised the model was (the colour key on the page)
SURPRISE_LEVELS = ((0.5, "expected"), (0.2, "likely"), (0.05, "unsure"), (0.01, "surprised"))


# --- views ---------------------------------------------------------------------------------


@login_required
@require_GET
def playground(request, run_id):
    """The whole page; ?step= and ?text= start it where a link (or a reload) left off."""
    run = visible_run(request, run_id)
    steps = stored_steps(run)
    context = {"run": run, "steps": steps, "round_length": ROUND_LENGTH}
    if not steps:
        return render(request, "runs/playground.html", context)
    form = PromptForm(run, steps, request.GET)
    valid = form.is_valid()
    step = form.cleaned_data.get("step", steps[-1])
    context.update(form=form, step=step, **reading_context(run, form))
    gen_form = GenerateForm(run, steps)
    context.update(gen_form=gen_form, generation=None, seed=GenerateForm.DEFAULTS["seed"])
    context.update(game_context(request, run, steps, step, new_round(), ""))
    return render(request, "runs/playground.html", context, status=200 if valid else 400)


@login_required
@require_GET
def predict(request, run_id):
    """The reading of the prompt box (400 with the reason when it cannot be read), and the
    generated text emptied when it was made for another prompt or step."""
    run = visible_run(request, run_id)
    steps = stored_steps(run)
    form = PromptForm(run, steps, request.GET)
    valid = form.is_valid()
    context = {"run": run, "steps": steps, "form": form, **reading_context(run, form)}
    html = render_to_string("runs/playground.html#reading", context, request)
    made_for = request.GET.get("gen_base")
    if valid and made_for and made_for != gen_base(form):
        html += render_to_string(
            "runs/playground.html#generation", {"run": run, "generation": None, "oob": True}
        )
    return HttpResponse(html, status=200 if valid else 400)


@login_required
@require_GET
def generate_view(request, run_id):
    """Draw the next character, or up to the end, from the prompt plus what was generated;
    "reseed" picks a new seed and generates to the end from the prompt alone."""
    run = visible_run(request, run_id)
    steps = stored_steps(run)
    form = GenerateForm(run, steps, request.GET)
    if not form.is_valid():
        context = {"run": run, "gen_form": form, "generation": None, "gen_errors": True}
        html = render_to_string("runs/playground.html#generation", context, request)
        return HttpResponse(html, status=400)
    data = dict(form.cleaned_data)
    html = ""
    if data["mode"] == "reseed":
        data.update(seed=secrets.randbelow(2**32), gen="", mode="end")
        seed_context = {"gen_form": form, "seed": data["seed"], "oob": True}
        html += render_to_string("runs/playground.html#seed", seed_context, request)
    context = {"run": run, "gen_form": form, "generation": generation_context(run, data)}
    html = render_to_string("runs/playground.html#generation", context, request) + html
    return HttpResponse(html)


@login_required
@require_http_methods(["GET", "POST"])
def game(request, run_id):
    """GET ?step=&round=: a new round at that step. POST step, round, guesses, guess: one
    guess more; the round's last guess stores the student's best score."""
    run = visible_run(request, run_id)
    steps = stored_steps(run)
    if not steps:
        return HttpResponse("This run has no stored parameters yet to play against.", status=404)
    query = request.POST if request.method == "POST" else request.GET
    step, round_number = parse_int(query.get("step")), parse_int(query.get("round"))
    guesses = query.get("guesses", "")
    error = None
    bad_round = round_number is None or not 0 <= round_number <= MAX_ROUND
    if step not in steps or bad_round or unknown_chars_error(guesses, run.vocab):
        error = "That round does not exist here; start a new round."
        step, round_number, guesses = steps[-1], new_round(), ""
    if request.method == "POST" and error is None:
        guess = query.get("guess", "")
        error = guess_error(guess, run.vocab)
        if error is None:
            guesses += guess
    status = 400 if error else 200
    context = {"run": run, **game_context(request, run, steps, step, round_number, guesses)}
    context["game_error"] = error
    game = context["game"]
    # stored once: when this guess is the round's last (not on a guess posted after it)
    if request.method == "POST" and error is None and len(guesses) == game["out_of"] > 0:
        you, model = game["scores"]
        PlaygroundScore.record(request.user, run, step, you, model, game["out_of"])
        context["best_scores"] = best_scores(request.user, run)
    return render(request, "runs/playground.html#game", context, status=status)


# --- small helpers -----------------------------------------------------------------------------


def parse_int(raw):
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def gen_base(form):
    """What generated text belongs to: the step and the prompt it continued."""
    return f"{form.cleaned_data['step']}:{form.cleaned_data['text']}"


def guess_error(guess, vocab):
    if len(guess) != 1:
        return "Type one character: your guess of what comes next."
    problem = unknown_chars_error(guess, vocab)
    return problem and f"Not a guess this model could make: {problem}"


def encode(run, text):
    index = {ch: i for i, ch in enumerate(run.vocab)}
    return [len(run.vocab), *(index[ch] for ch in text)]


def surprise_level(p):
    for floor, name in SURPRISE_LEVELS:
        if p >= floor:
            return name
    return "shocked"


def bars(probs, labels, count, marked=None, floor=0.0):
    """The `count` likeliest tokens as bars, likeliest first (and `marked`, if lower); with
    `floor`, none below it."""
    order = sorted(range(len(probs)), key=lambda i: -probs[i])
    shown = [i for i in order[:count] if probs[i] > floor or i == marked]
    if marked is not None and marked not in shown:
        shown.append(marked)
    bos = len(labels) - 1
    return [
        {
            "text": labels[i],
            "is_bos": i == bos,
            "percent": f"{100 * probs[i]:.1f}",
            "marked": i == marked,
        }
        for i in shown
    ]


def surprise_strip(texts, surprise):
    """The prompt's characters as list items coloured by how surprised the model was, each
    with its probability in % and its position for the op view (static/js/playground.js
    opens it); built here, not in the template: 63 of them per keystroke."""
    return mark_safe(
        "".join(
            f'<li class="s-{surprise_level(p)}" title="loss {loss:.2f}" data-p="{pos}" '
            f'tabindex="0">{escape(text)}<small>{100 * p:.1f}</small></li>'
            for pos, (text, (p, loss)) in enumerate(zip(texts, surprise, strict=True))
        )
    )


# --- context builders --------------------------------------------------------------------------


def reading_context(run, form):
    """What the prompt box shows under it: empty with the form's errors when it is invalid."""
    if not form.is_bound or not form.is_valid():
        return {"reading": None}
    step, text = form.cleaned_data["step"], form.cleaned_data["text"]
    model = model_for(run, step)
    labels = token_labels(run)
    ids = encode(run, text)
    reading = read(model, ids)
    surprise = reading.surprise()
    losses = [loss for _, loss in surprise]
    count = len(labels) if form.cleaned_data["all"] else TOP_K_SHOWN
    return {
        "reading": {
            "step": step,
            "text": text,
            "chars": surprise_strip([labels[t] for t in ids[1:]], surprise),
            "ops_url": tokens_url(run, step, text) if text else "",
            "mean_loss": f"{sum(losses) / len(losses):.2f}" if losses else None,
            "last": labels[ids[-1]],
            "last_is_bos": len(ids) == 1,
            "bars": bars(reading.next_probs, labels, count),
            "all": form.cleaned_data["all"],
            "vocab_size": len(labels),
            "uniform_percent": f"{100 / len(labels):.1f}",
            "heads": attention_heads(reading.attn_weights),
            "size": len(ids),
            "chars_json": json.dumps(
                [labels[t] for t in ids], ensure_ascii=False, separators=(",", ":")
            ),
        }
    }


def generation_context(run, data):
    """Draw as `data` says (mode next or end) after the prompt and the text generated so far."""
    step, text, gen = data["step"], data["text"], data["gen"]
    model = model_for(run, step)
    labels = token_labels(run)
    ids = encode(run, text + gen)
    settings = (data["temperature"], data["top_k"], data["seed"])
    bos = len(labels) - 1
    if len(ids) > model.config.block_size:
        draws, why = [], "block"
    elif data["mode"] == "next":
        draws, why = [draw_next(model, ids, *settings)], None
        why = "bos" if draws[0].token == bos else None
    else:
        draws, why = generate(model, ids, *settings, bos=bos)
    new = [d for d in draws if d.token != bos]
    last = draws[-1] if draws else None
    new_text = "".join(run.vocab[d.token] for d in new)
    return {
        "step": step,
        "prompt": text,
        "earlier": gen,
        "new": [
            {"text": labels[d.token], "percent": f"{100 * d.probs[d.token]:.1f}"} for d in new
        ],
        "gen": gen + new_text,
        "gen_base": f"{step}:{text}",
        "why": why,
        "block_size": model.config.block_size,
        "mode": data["mode"],
        "drawn": None if last is None else {
            "text": labels[last.token],
            "is_bos": last.token == bos,
            "percent": f"{100 * last.probs[last.token]:.1f}",
            "bars": bars(last.probs, labels, DRAWN_SHOWN, marked=last.token, floor=0.0005),
            "possible": int((last.probs > 0).sum()),
            "after": "".join(labels[t] for t in ids[1:][-12:]) if len(draws) == 1 else None,
        },
        "settings": dict(zip(("temperature", "top_k", "seed"), settings, strict=True)),
    }
