"""What the lenses read: a run's model at a stored step, the texts they read it on.

The one place to repoint: the model comes from the checkpoint stored with each snapshot,
through the playground's model cache; "held-out documents" and "the default text" are a
seeded share of the run's lines and the first of them.
"""

import numpy as np

from packs_app.sources import resolve_source
from runs import playground_model

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
    """Lines to average the ablation's loss change over: a seeded share of the run's lines,
    in its vocabulary (the run trained on these too: runs keep no validation split yet)."""
    lines = [doc for doc in documents_of(run) if doc and set(doc) <= set(run.vocab)]
    count = min(limit, max(1, round(HELD_OUT_SHARE * len(lines))))
    return pick_lines(lines, run.seed, count)


def default_text(run):
    """The text a lens opens on: the first held-out line, cut to fit the block after BOS."""
    lines = held_out_documents(run, 1)
    return lines[0][: int(run.config.get("block_size", 16)) - 1] if lines else ""


def role_texts(documents, seed, count=ROLE_TEXTS):
    """The lines every scored step's head roles are read on (the same ones all run long)."""
    return pick_lines(documents, seed, count)
