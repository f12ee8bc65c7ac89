"""What the lenses read: a run's model at a stored step, the texts they read it on.

The model comes from the checkpoint stored with each snapshot, through the playground's
model cache; "held-out documents" are the run's validation split (runs.evaluation), and "the
default text" is the run's probe line. A run from before the split (or a corpus too small to
split) falls back to a seeded share of its lines.
"""

import numpy as np

from packs_app.sources import resolve_source
from runs import playground_model
from runs.evaluation import held_out_of

HELD_OUT_SHARE = 0.1
HELD_OUT_MAX = 8  # the ablation's mean loss change reads at most this many lines
ROLE_TEXTS = 4  # head roles are scored on this many lines, the same at every step


def model_for(run, step):
    """The run's model as it was at `step`, or None when no parameters are stored there:
    the playground's cached loader (one cache of models per server process)."""
    return playground_model.model_for(run, step)


def documents_of(run):
    return resolve_source(run.source_ref, run.owner, include_disabled=True).documents


def pick_lines(documents, seed, count):
    """`count` non-empty lines picked by the seed (always the same ones for a run)."""
    order = np.random.default_rng([int(seed or 0), 5]).permutation(len(documents))
    return [documents[i] for i in order if documents[i]][:count]


def held_out_documents(run, limit=HELD_OUT_MAX):
    """Lines to average the ablation's loss change over: the run's held-out lines (never
    trained on), in its vocabulary; a seeded share of its lines when it holds none out."""
    documents = documents_of(run)
    known = set(run.vocab)
    held = [doc for doc in held_out_of(documents, run.seed) if doc and set(doc) <= known]
    if held:
        return held[:limit]
    lines = [doc for doc in documents if doc and set(doc) <= known]
    count = min(limit, max(1, round(HELD_OUT_SHARE * len(lines))))
    return pick_lines(lines, run.seed, count)


def default_text(run):
    """The text a lens opens on: the run's probe line (the one its page follows through
    training), else the first held-out line; cut to fit the block after BOS."""
    block = int(run.config.get("block_size", 16)) - 1
    probe = (run.started_data().get("probe") or {}).get("text", "")
    if probe and set(probe) <= set(run.vocab):
        return probe[:block]
    lines = held_out_documents(run, 1)
    return lines[0][:block] if lines else ""


def role_texts(documents, seed, count=ROLE_TEXTS):
    """The lines every scored step's head roles are read on (the same ones all run long)."""
    return pick_lines(documents, seed, count)
