"""The probe line and the held-out lines, looked at many times while a run trains.

A run holds out a seeded share of its documents (engine.evaluation.split_documents) and
follows one probe line from start to end: the student's own text, or a held-out document
chosen by the seed. At every evaluation step (EVAL_POINTS spread over the run, and every
snapshot step) it stores, with the parameters that step's forward pass uses:
{"val_loss", "probe": {"loss", "losses", "topk_ids", "topk_probs", "target_probs"},
"dead_relu_share"}; at snapshot steps the snapshot also keeps the probe's attention.
"""

import base64
import math

import numpy as np

from engine import Trainer
from engine.evaluation import look, split_documents
from engine.record import rounded

EVAL_POINTS = 50
VAL_MAX_DOCS = 64  # validation loss: the mean over at most this many held-out lines
VAL_MAX_TOKENS = 1024  # ... holding at most this many characters in all


def eval_schedule(num_steps, snapshot_steps=(), points=EVAL_POINTS):
    """Step 1, every ceil(num_steps / points) steps, the last step and every snapshot step."""
    every = max(1, math.ceil(num_steps / points))
    return sorted({1, num_steps, *range(every, num_steps + 1, every), *snapshot_steps})


def probe_error(text, chars, block_size):
    """Why `text` cannot be a run's probe line ("" when it can): at most block_size
    characters, all of them characters of the corpus."""
    if not text:
        return "Type at least one character."
    if len(text) > block_size:
        return (f"The probe line has {len(text)} characters; the block size ({block_size}) is "
                "the most the model reads at once.")
    unknown = sorted(set(text) - set(chars))
    if unknown:
        shown = " ".join(repr(ch) for ch in unknown[:8])
        return f"These characters are not in the text it trains on: {shown}."
    return ""


def default_probe(documents, held, seed, block_size):
    """(text, where it comes from): a held-out document picked by the seed (one that fits
    the block when some do), or a training document when nothing is held out."""
    pool = held or list(range(len(documents)))
    fitting = [i for i in pool if 0 < len(documents[i]) < block_size]
    pool = fitting or [i for i in pool if documents[i]] or pool
    index = pool[int(np.random.default_rng([seed, 4]).integers(len(pool)))]
    return documents[index][:block_size], "held-out" if held else "training"


def compact_attention(weights):
    """(n_layer, n_head, T, T) attention as {"size": T, "heads": [[layer, head, base64]]}:
    the causal lower triangle row by row, each weight × 255 as one byte. A heatmap needs no
    more, and a max-size map is ~4 KB a head instead of ~30 KB of JSON."""
    weights = np.asarray(weights, np.float32)
    size = weights.shape[-1]
    rows, cols = np.tril_indices(size)
    quantized = np.rint(np.clip(weights[..., rows, cols], 0, 1) * 255).astype(np.uint8)
    heads = [
        [layer, head, base64.b64encode(quantized[layer, head].tobytes()).decode()]
        for layer in range(weights.shape[0])
        for head in range(weights.shape[1])
    ]
    return {"size": size, "heads": heads}


class Evaluator:
    """The run's trainer (on the training documents) and what it evaluates."""

    def __init__(self, documents, settings, probe_text=""):
        self.documents, self.settings, self.asked_probe = documents, dict(settings), probe_text
        seed = settings.get("seed", 0)
        train, held = split_documents(len(documents), seed)
        self.train_docs = [documents[i] for i in train]
        self.held_docs = [documents[i] for i in held]
        self.trainer = Trainer(self.train_docs, held_out=self.held_docs, **settings)
        block = self.trainer.config.block_size
        if probe_text:
            self.probe_text, self.probe_source = probe_text, "yours"
        else:
            self.probe_text, self.probe_source = default_probe(documents, held, seed, block)
        encode = self.trainer.vocab.encode
        self.probe_tokens = encode(self.probe_text, block)
        self.val_tokens, total = [], 0
        for doc in self.held_docs[:VAL_MAX_DOCS]:
            tokens = encode(doc, block)
            if self.val_tokens and total + len(tokens) - 1 > VAL_MAX_TOKENS:
                break
            self.val_tokens.append(tokens)
            total += len(tokens) - 1
        self.train_set = set(self.train_docs)

    def about(self):
        """What run.started stores of the split and the probe."""
        lengths = {}
        for doc in self.train_docs:
            lengths[len(doc)] = lengths.get(len(doc), 0) + 1
        return {
            "train_docs": len(self.train_docs),
            "held_out_docs": len(self.held_docs),
            "val_docs": len(self.val_tokens),
            "line_lengths": sorted(lengths.items()),
            "probe": {
                "text": self.probe_text,
                "source": self.probe_source,
                "tokens": self.probe_tokens[:-1].tolist(),
                "targets": self.probe_tokens[1:].tolist(),
            },
        }

    def evaluate(self):
        """(eval event data, the probe's attention) with the current parameters."""
        model, top_k = self.trainer.model, self.trainer.top_k
        probe = look(model, self.probe_tokens, top_k)
        active = probe["relu_active"].copy()
        val_losses = []
        for tokens in self.val_tokens:
            seen = look(model, tokens)
            val_losses.append(seen["loss"])
            active |= seen["relu_active"]
        val_loss = float(np.mean(val_losses)) if val_losses else None
        data = {
            "val_loss": val_loss if val_loss is None or math.isfinite(val_loss) else None,
            "probe": {
                "loss": rounded(probe["loss"], 5),
                "losses": rounded(probe["losses"]),
                "topk_ids": probe["topk_ids"].tolist(),
                "topk_probs": rounded(probe["topk_probs"]),
                "target_probs": rounded(probe["target_probs"]),
            },
            "dead_relu_share": round(1.0 - float(active.mean()), 4),
        }
        return data, probe["attn_weights"]

    def copied(self, samples):
        """For each sample: is it a verbatim copy of a training line?"""
        return [bool(text) and text in self.train_set for text in samples]


def train_and_diagnose(documents, config, probe_text=""):
    """Train `config` on `documents` as a run does (the same split, probe and evaluation
    steps), storing nothing; returns the runs.diagnostics.RunData of the finished run. For
    checking the diagnostics against real training (manage.py check_diagnostics)."""
    from runs.diagnostics import RunData

    settings = {name: config[name] for name in config if name not in ("probe_text", "history")}
    evaluator = Evaluator(documents, {**settings, "capture": False, "sample_count": 0},
                          probe_text)
    trainer = evaluator.trainer
    schedule = set(eval_schedule(trainer.num_steps))
    losses, val_steps, val_losses, dead = [], [], [], None
    while not trainer.done:
        if trainer.step_count + 1 in schedule:
            data, _ = evaluator.evaluate()
            val_steps.append(trainer.step_count + 1)
            val_losses.append(data["val_loss"])
            dead = data["dead_relu_share"]
        loss = trainer.step().loss
        losses.append(loss if math.isfinite(loss) else None)
    trainer.sample_count = 20
    samples = trainer.sample()
    data = RunData(
        vocab_size=trainer.vocab.size,
        num_steps=trainer.num_steps,
        losses=losses,
        config=dict(config),
        val_steps=val_steps,
        val_losses=val_losses,
        doc_lengths=[len(doc) for doc in evaluator.train_docs],
        dead_relu_share=dead,
    )
    return data, samples, evaluator.copied(samples)


def held_out_of(documents, seed):
    """The documents a run with this seed holds out (never trains on), as Evaluator splits
    them; [] for a corpus too small to split."""
    _, held = split_documents(len(documents), int(seed or 0))
    return [documents[i] for i in held]


def trainer_for(documents, config):
    """The engine Trainer a run with `config` trains: on `documents` minus its held-out
    lines. Whatever replays a run (the op view's update, a resume) must start here, or its
    steps would differ from the stored ones."""
    from runs.config import engine_settings

    return Evaluator(documents, {**engine_settings(config), "capture": False}).trainer
