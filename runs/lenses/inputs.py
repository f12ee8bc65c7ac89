"""What the lenses read: a run's model at a stored step, the texts they read it on.

The one place to repoint: the model comes from the checkpoint stored with each snapshot (as
the op view gets it); "held-out documents" and "the default text" are a seeded share of the
run's lines and the first of them.
"""

import threading
from collections import OrderedDict

import numpy as np

from packs_app.sources import resolve_source
from runs.opview.trace import model_at

HELD_OUT_SHARE = 0.1
HELD_OUT_MAX = 8  # the ablation's mean loss change reads at most this many lines
ROLE_TEXTS = 4  # head roles are scored on this many lines, the same at every step
MODELS_KEPT = 24  # loaded models kept per server process (a max-config one is ~0.5 MB)


class StepModels:
    """The last MODELS_KEPT models loaded, by (run, step): a checkpoint never changes."""

    def __init__(self, size):
        self.size, self.models, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, run, step):
        key = (run.pk, step, run.created_at)
        with self.lock:
            if key in self.models:
                self.models.move_to_end(key)
                return self.models[key]
        params = run.params_at(step)
        if params is None:
            return None  # not kept: a running run may store it later
        model = model_at(run, params)
        with self.lock:
            self.models[key] = model
            while len(self.models) > self.size:
                self.models.popitem(last=False)
        return model


MODELS = StepModels(MODELS_KEPT)


def model_for(run, step):
    """The run's model as it was at `step`, or None when no parameters are stored there."""
    return MODELS.get(run, step)


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
