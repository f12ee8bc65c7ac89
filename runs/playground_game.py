""""You vs the model": on lines the model did not train on, the student guesses each next
character, then sees the answer and the model's top guess; both are scored over a round.

A round is fixed by (run, round number): the same lines in the same order, whoever plays
and at whichever step, so a rematch at an early step can be set beside the same characters.
The student's guesses travel with the form; only a finished round is stored (its score).
"""

from dataclasses import dataclass

import numpy as np

from packs_app.sources import resolve_source
from runs.playground_model import read

ROUND_LENGTH = 20
POOL_SHARE = 0.1  # until the run keeps a validation split: this share of the lines, by seed


def held_out_lines(run):
    """(lines, held_out): the corpus lines a round is played on, and whether the model
    never trained on them. Runs keep no validation split yet, so this is a share of the
    lines chosen by the run's seed, and held_out is False (the page says so)."""
    documents = resolve_source(run.source_ref, run.owner, include_disabled=True).documents
    lines = [doc for doc in documents if doc and set(doc) <= set(run.vocab)]
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
