"""What the playground reads from a run's model at a stored step, and the bounded cache of
those models.

Parameters come from where the op view gets them: the checkpoint stored with each snapshot
(`Run.params_at`), turned into a model by `runs.opview.trace.model_at`. A checkpoint never changes
once stored, so a loaded model is kept in a least-recently-used cache bounded by bytes:
LAB_PLAYGROUND_CACHE_MB, 32 MB per server process by default. A max-config model (2 layers,
64 dimensions, a 64-token block, ~100 characters) is about 0.47 MB of float32, so ~65 fit.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from threadpoolctl import ThreadpoolController

from engine.sampling import draw, sampling_weights
from runs.models import RunCheckpoint
from runs.opview.trace import model_at


class ModelCache:
    """Least recently used models, at most `max_bytes` of parameters in all (or of whatever
    `size(value)` counts, for other values). Thread-safe: daphne runs sync views on a thread
    pool."""

    def __init__(self, max_bytes, size=None):
        self.max_bytes = max_bytes
        self.size = size or (lambda model: model.flat.nbytes)
        self.models = OrderedDict()  # key -> GPT
        self.bytes = 0
        self.lock = threading.Lock()

    def get(self, key, load):
        with self.lock:
            model = self.models.get(key)
            if model is not None:
                self.models.move_to_end(key)
                return model
        model = load()  # outside the lock: a slow load must not stall every other reader
        with self.lock:
            if key not in self.models:
                self.models[key] = model
                self.bytes += self.size(model)
            while self.bytes > self.max_bytes and len(self.models) > 1:
                _, dropped = self.models.popitem(last=False)
                self.bytes -= self.size(dropped)
        return model

    def clear(self):
        with self.lock:
            self.models.clear()
            self.bytes = 0


# The playground's matrices are tiny: BLAS threads only wait for each other (a 64-token
# forward pass takes ~3 ms on one thread, ~100 ms on two busy cores).
BLAS = ThreadpoolController()


def one_thread():
    return BLAS.limit(limits=1, user_api="blas")


CACHE = ModelCache(settings.LAB_PLAYGROUND_CACHE_MB * 1024 * 1024)


def stored_steps(run):
    """Sorted steps whose parameters are stored (the snapshot steps). Keeps each one's
    checkpoint key on `run` for model_for, so a request asks the database once."""
    rows = RunCheckpoint.objects.filter(run=run).values_list("step", "pk", "created_at")
    run.checkpoint_keys = {step: (pk, created) for step, pk, created in rows}
    return sorted(run.checkpoint_keys)


def model_for(run, step):
    """The model as it was at `step` (from the cache), or None when no parameters are
    stored for that step. The key carries the checkpoint's row id and time, so a reused
    id (SQLite reuses them after a delete) never serves another run's model."""
    if not hasattr(run, "checkpoint_keys"):
        stored_steps(run)
    key = run.checkpoint_keys.get(step)
    if key is None:
        return None
    return CACHE.get((run.pk, step, *key), lambda: model_at(run, run.params_at(step)))


# --- reading the model on a text ---------------------------------------------------------------


@dataclass
class Reading:
    """One forward pass over ids = [BOS] + the prompt's characters."""

    ids: np.ndarray  # (T,)
    probs: np.ndarray  # (T, V) float64: row t is the next-token distribution after ids[: t + 1]
    attn_weights: np.ndarray  # (n_layer, n_head, T, T)

    @property
    def next_probs(self):
        """The distribution of the character after the whole prompt."""
        return self.probs[-1]

    def surprise(self):
        """[(p, loss)] for each prompt character ids[t + 1]: the probability the model gave it
        after ids[: t + 1], and its loss −ln p."""
        t = np.arange(len(self.ids) - 1)
        p = self.probs[t, self.ids[1:]]
        return [(float(pi), float(-np.log(max(pi, 1e-300)))) for pi in p]


def softmax(logits):
    z = np.asarray(logits, np.float64)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def read(model, ids):
    """The model's forward pass over `ids` (the training forward, one tape)."""
    with one_thread():
        tape = model.forward(ids)
    attn = np.stack([node.value for node in tape.find("attention weights")])
    return Reading(np.asarray(ids, np.intp), softmax(tape.nodes[-1].value), attn)


# --- generating ----------------------------------------------------------------------------------


@dataclass
class Draw:
    """One character drawn: the distribution it was drawn from and which one."""

    token: int
    probs: np.ndarray  # (V,) after temperature and the top-k cut


def draw_next(model, ids, temperature, top_k, seed):
    """Draw the token after `ids`. The random number depends only on (seed, len(ids)), so
    drawing one character at a time gives the same text as generating to the end."""
    with one_thread():
        logits = model.logits(ids)[-1]
    weights = sampling_weights(logits, temperature, top_k)
    token = draw(weights, np.random.default_rng([seed, len(ids)]))
    return Draw(token, weights / weights.sum())


def generate(model, ids, temperature, top_k, seed, bos, max_new=None):
    """Draw until BOS or the block is full (or `max_new` characters): (draws, why stopped),
    why being "bos", "block" or "count"."""
    ids, draws = list(ids), []
    block = model.config.block_size
    while True:
        if len(ids) > block:  # as the training samples: up to block_size characters
            return draws, "block"
        if max_new is not None and len(draws) >= max_new:
            return draws, "count"
        drawn = draw_next(model, ids, temperature, top_k, seed)
        draws.append(drawn)
        if drawn.token == bos:
            return draws, "bos"
        ids.append(drawn.token)
