"""Training loop: one document per step, Adam with a linearly decaying learning rate."""

import numpy as np

from .config import GPTConfig, validate_train_config
from .evaluation import predictions
from .model import GPT
from .optim import Adam
from .record import StepRecord
from .sampling import draw, sampling_weights
from .trace import trace_token
from .vocab import Vocab

# settings a checkpoint must share with the trainer that resumes it
TRAJECTORY = ("n_embd", "n_head", "n_layer", "block_size", "num_steps", "learning_rate", "seed",
              "dtype")


class Trainer:
    def __init__(self, docs, *, n_embd, n_head, n_layer, block_size, num_steps, learning_rate,
                 seed=0, top_k=5, sample_interval=100, sample_count=5, temperature=0.5,
                 capture=True, dtype="float32", held_out=(), history=()):
        validate_train_config(num_steps=num_steps, learning_rate=learning_rate, seed=seed,
                              top_k=top_k, sample_interval=sample_interval,
                              sample_count=sample_count, temperature=temperature)
        docs = list(docs)
        if not docs or not all(isinstance(d, str) for d in docs):
            raise ValueError("docs must be a non-empty list of strings")
        self.held_out = list(held_out)  # never trained on, but in the vocabulary
        self.vocab = Vocab.from_docs(docs + self.held_out)
        if self.vocab.size < 2:
            raise ValueError("docs must contain at least one character")
        self.config = GPTConfig(self.vocab.size, n_embd, n_head, n_layer, block_size, dtype)
        self.settings = {
            "n_embd": n_embd, "n_head": n_head, "n_layer": n_layer, "block_size": block_size,
            "num_steps": num_steps, "learning_rate": learning_rate, "seed": seed, "top_k": top_k,
            "sample_interval": sample_interval, "sample_count": sample_count,
            "temperature": temperature, "dtype": dtype, "history": [list(h) for h in history],
        }
        self.num_steps, self.learning_rate, self.seed = num_steps, learning_rate, seed
        self.history = [tuple(h) for h in history]  # a fork's earlier schedules: see lr()
        self.top_k, self.capture = min(top_k, self.vocab.size), capture
        self.sample_interval, self.sample_count = sample_interval, sample_count
        self.temperature = temperature
        self.model = GPT(self.config, seed)
        self.optimizer = Adam(self.model.flat.size, self.model.dtype)
        self._grad = np.empty_like(self.model.flat)  # reused: see Adam
        self.tape = None  # the last step's tape
        self.doc_tokens = [self.vocab.encode(d, block_size) for d in docs]
        self.doc_order = np.random.default_rng([seed, 1]).permutation(len(docs))  # shuffled once
        self.step_count = 0

    @property
    def done(self):
        return self.step_count >= self.num_steps

    def next_doc(self):
        """(doc index, token ids) that the next step trains on."""
        i = int(self.doc_order[self.step_count % len(self.doc_order)])
        return i, self.doc_tokens[i]

    def update(self, tokens, lr):
        """Forward, backward and one Adam update on one token sequence.
        Returns (tape, flat gradient, flat update); the next update overwrites the last two."""
        # the new tape is built while the last one is still held: freeing a whole tape
        # first lets malloc hand its memory back to the OS, and page faults cost ~2x
        tape = self.tape = self.model.forward(tokens[:-1], tokens[1:])
        tape.backward()
        grad = self.model.flat_grad(tape, out=self._grad)
        return tape, grad, self.optimizer.step(self.model.flat, grad, lr)

    def lr(self):
        """The next step's learning rate: decays linearly from learning_rate towards 0 (a fork's
        steps before its fork as its parent's did: history = [(until, learning_rate, steps)])."""
        rate, steps = next(((r, n) for until, r, n in self.history if self.step_count < until),
                           (self.learning_rate, self.num_steps))
        return rate * (1 - self.step_count / steps)

    def step(self):
        """Train on the next document; returns its StepRecord."""
        if self.done:
            raise RuntimeError(f"training is done ({self.num_steps} steps)")
        doc_index, tokens = self.next_doc()
        lr = self.lr()
        tape, grad, update = self.update(tokens, lr)
        self.step_count += 1
        loss = tape.nodes[-1]
        record = StepRecord(self.step_count, float(loss.value), lr, self._norms(grad),
                            self._norms(update), doc_index)
        if self.capture:
            self._capture(record, tape, tokens)
        if self.sample_count and (self.step_count % self.sample_interval == 0 or self.done):
            record.samples = self.sample()
        return record

    def replay(self, step_count):
        """Train, recording nothing, until `step_count` steps are done: recomputes a run from
        an earlier checkpoint. Then step() gives step_count + 1's record, trace() its graph."""
        while self.step_count < min(step_count, self.num_steps):
            self.update(self.next_doc()[1], self.lr())
            self.step_count += 1

    def __iter__(self):
        while not self.done:
            yield self.step()

    def _norms(self, flat):
        """L2 norm per parameter group (contiguous runs of `flat`) and in total."""
        groups = self.model.groups.items()
        squares = {g: float(np.dot(flat[a:b], flat[a:b])) for g, (a, b) in groups}
        return {g: sq**0.5 for g, sq in squares.items()} | {"total": sum(squares.values()) ** 0.5}

    def _capture(self, record, tape, tokens):
        # everything comes from the forward pass that was just done
        for name, value in predictions(tape, tokens, self.top_k).items():
            setattr(record, name, value)

    def sample(self, count=None, temperature=None, rng=None):
        """Generate `count` documents, each up to block_size characters, stopping at BOS. The
        default rng depends only on (seed, step_count), so training is left undisturbed and
        the same step always gives the same samples."""
        count = self.sample_count if count is None else count
        temperature = self.temperature if temperature is None else temperature
        rng = np.random.default_rng([self.seed, self.step_count, 2]) if rng is None else rng
        bos, samples = self.vocab.bos, []
        for _ in range(count):
            ids = [bos]
            while len(ids) <= self.config.block_size:
                logits = self.model.logits(ids)[-1].astype(np.float64)
                if temperature <= 0:
                    nxt = int(np.argmax(logits))
                else:
                    nxt = draw(sampling_weights(logits, temperature), rng)
                if nxt == bos:
                    break
                ids.append(nxt)
            samples.append(self.vocab.decode(ids))
        return samples

    def trace(self, position):
        """Op-level trace of the next step's document at `position`, with the parameters that
        step sees (see engine.trace). To trace step k: replay(k - 1), then trace()."""
        return trace_token(self.model, self.next_doc()[1], position)

    def checkpoint(self):
        """Everything needed to resume: params, Adam state, step, doc order, settings."""
        def by_name(flat):
            return {name: a.copy() for name, a in self.model.views(flat).items()}

        return {
            "format": 1,
            "step": self.step_count,
            "settings": dict(self.settings),
            "chars": self.vocab.chars,
            "doc_order": self.doc_order.copy(),
            "params": by_name(self.model.flat),
            "adam_m": by_name(self.optimizer.m),
            "adam_v": by_name(self.optimizer.v),
        }

    def restore(self, ckpt):
        for key in TRAJECTORY:
            if ckpt["settings"][key] != self.settings[key]:
                raise ValueError(f"checkpoint has {key}={ckpt['settings'][key]!r}, "
                                 f"this trainer {self.settings[key]!r}")
        if ckpt["chars"] != self.vocab.chars or len(ckpt["doc_order"]) != len(self.doc_order):
            raise ValueError("checkpoint was made on other documents")
        for flat, key in ((self.model.flat, "params"), (self.optimizer.m, "adam_m"),
                          (self.optimizer.v, "adam_v")):
            for name, view in self.model.views(flat).items():
                view[...] = ckpt[key][name]
        self.doc_order = np.asarray(ckpt["doc_order"], np.intp).copy()
        self.step_count = self.optimizer.t = int(ckpt["step"])

    @classmethod
    def from_checkpoint(cls, docs, ckpt, **overrides):
        """A trainer resumed from `ckpt`; settings default to the checkpoint's."""
        trainer = cls(docs, **{**ckpt["settings"], **overrides})
        trainer.restore(ckpt)
        return trainer
