""""You vs the model": on lines the model did not train on, the student guesses each next
character, then sees the answer and the model's top guess; both are scored over a round.

A round is fixed by (run, round number): the same lines in the same order, whoever plays
and at whichever step, so a rematch at an early step can be set beside the same characters.
The student's guesses travel with the form; only a finished round is stored (its score).
"""

import secrets
from dataclasses import dataclass

import numpy as np
from django.urls import reverse

from packs_app.sources import resolve_source
from runs.evaluation import held_out_of
from runs.models import PlaygroundScore
from runs.page import token_labels
from runs.playground_model import model_for, read

ROUND_LENGTH = 20
MAX_ROUND = 1_000_000
POOL_SHARE = 0.1  # a run that holds no lines out plays on this share of its lines, by seed


def held_out_lines(run):
    """(lines, held_out): the corpus lines a round is played on, and whether the model
    never trained on them: the run's held-out lines (runs.evaluation); for a corpus too
    small to split, a share of its lines chosen by the seed, and held_out is False (the page
    says so)."""
    documents = resolve_source(run.source_ref, run.owner, include_disabled=True).documents
    known = set(run.vocab)
    held = [doc for doc in held_out_of(documents, run.seed) if doc and set(doc) <= known]
    if held:
        return held, True
    lines = [doc for doc in documents if doc and set(doc) <= known]
    rng = np.random.default_rng([int(run.seed or 0), 3])
    count = max(1, round(POOL_SHARE * len(lines))) if lines else 0
    chosen = sorted(rng.permutation(len(lines))[:count].tolist())
    return [lines[i] for i in chosen], False


@dataclass
class Item:
    """One character to guess: `answer` comes after `context` on its line."""

    line: int
    context: str
    answer: str


def round_items(run, round_number, lines):
    """About ROUND_LENGTH characters from lines picked by (run seed, round number), each
    line cut where the model's block ends."""
    if not lines:
        return []
    block = int(run.config.get("block_size", 1))
    rng = np.random.default_rng([int(run.seed or 0), 4, round_number])
    items = []
    for index in rng.permutation(len(lines)).tolist() * ROUND_LENGTH:
        line = lines[index][:block]
        items += [Item(index, line[:i], line[i]) for i in range(len(line))]
        if len(items) >= ROUND_LENGTH:
            break
    return items[:ROUND_LENGTH]


def model_guesses(model, vocab, items):
    """[(top guess id, probability of the answer)] of `model` for each item: one forward
    pass per line of the round, over [BOS] + the part of the line the round reaches."""
    char_index = {ch: i for i, ch in enumerate(vocab)}
    reach = {}  # line -> its text up to the round's last answer on it
    for item in items:
        text = item.context + item.answer
        if len(text) > len(reach.get(item.line, "")):
            reach[item.line] = text
    probs = {
        line: read(model, [len(vocab), *(char_index[ch] for ch in text[:-1])]).probs
        for line, text in reach.items()
    }
    out = []
    for item in items:
        row = probs[item.line][len(item.context)]  # after BOS + context
        out.append((int(np.argmax(row)), float(row[char_index[item.answer]])))
    return out


def score(items, guesses, model_tops, vocab):
    """(the student's right guesses, the model's) over the guessed items so far."""
    you = sum(g == item.answer for g, item in zip(guesses, items, strict=False))
    model = sum(
        top < len(vocab) and vocab[top] == item.answer
        for (top, _), item in zip(model_tops[: len(guesses)], items, strict=False)
    )
    return you, model


def new_round():
    return secrets.randbelow(MAX_ROUND) + 1


# --- what the page shows -------------------------------------------------------------------------


def best_scores(user, run):
    if not user.is_authenticated:
        return []
    return list(PlaygroundScore.objects.filter(user=user, run=run).order_by("step"))


def game_context(request, run, steps, step, round_number, guesses):
    """A round at `step`: the guesses so far against the answers and the model's top guess;
    once finished, the scores, the same characters at the earliest step, and rematches."""
    lines, held_out = held_out_lines(run)
    items = round_items(run, round_number, lines)
    labels = token_labels(run)
    model = model_for(run, step)
    tops = model_guesses(model, run.vocab, items)
    guesses = guesses[: len(items)]
    rows = []
    for guess, item, (top, p) in zip(guesses, items, tops, strict=False):
        rows.append(
            {
                "context": "".join(labels[run.vocab.index(ch)] for ch in item.context[-10:]),
                "at_start": not item.context,
                "answer": labels[run.vocab.index(item.answer)],
                "guess": labels[run.vocab.index(guess)],
                "you_right": guess == item.answer,
                "model": labels[top],
                "model_right": top < len(run.vocab) and run.vocab[top] == item.answer,
                "percent": f"{100 * p:.0f}",
            }
        )
    finished = bool(items) and len(guesses) == len(items)
    you, model_score = score(items, guesses, tops, run.vocab)
    current = None
    if not finished and items:
        item = items[len(guesses)]
        current = {
            "context": "".join(labels[run.vocab.index(ch)] for ch in item.context),
            "number": len(guesses) + 1,
        }
    early = None
    if finished:
        early_step = steps[0]
        if early_step != step:
            early_tops = model_guesses(model_for(run, early_step), run.vocab, items)
            early = {"step": early_step, "score": score(items, guesses, early_tops, run.vocab)[1]}
    return {
        "game": {
            "step": step,
            "round": round_number,
            "guesses": guesses,
            "rows": rows,
            "current": current,
            "finished": finished,
            "scores": (you, model_score),
            "out_of": len(items),
            "held_out": held_out,
            "early": early,
            "rematches": [s for s in steps[:2] if s != step],
            "url": reverse("runs:playground_game", args=[run.pk]),
            "next_round": new_round(),
        },
        "best_scores": best_scores(request.user, run),
    }
