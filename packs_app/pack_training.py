"""Train built-in packs through the engine and measure them: used by `manage.py pack_smoke`
(brief: does the loss fall, are samples non-empty?) and `manage.py pack_report` (the full
recommended run: final loss and how many of 20 samples follow the template)."""

import math
import time
from dataclasses import dataclass

import numpy as np

from engine import Trainer
from packs_app.sources import adherence

REPORT_SAMPLES = 20
# 20 samples judge a pack coarsely (one sample is 5%); pack_report also shows the share over
# this many more, drawn from the same trained model, as the steadier figure beside it.
WIDE_SAMPLES = 200
LOSS_WINDOW = 50  # one document per step is noisy: losses are averaged over a window


@dataclass
class PackResult:
    slug: str
    steps: int
    first_loss: float
    final_loss: float
    ln_vocab: float
    samples: list
    adherent: int
    seconds: float
    wide_adherent: int = 0
    wide_count: int = 0

    @property
    def adherence(self):
        return self.adherent / len(self.samples) if self.samples else 0.0


def train(slug, documents, pattern, config, *, num_steps=None, sample_count=None, wide=0):
    """Train on `documents` with `config` (a recommended config), as a run would, and
    return the samples of the last step (`sample_count` of them; default the config's);
    with `wide`, also how many of `wide` further samples follow the template."""
    settings = {**config, "capture": False}
    if num_steps is not None:
        settings["num_steps"] = num_steps
    if sample_count is not None:
        settings["sample_count"] = sample_count
    started = time.perf_counter()
    trainer = Trainer(documents, **settings)
    records = list(trainer)
    losses = [record.loss for record in records]
    samples = records[-1].samples or []
    seconds = time.perf_counter() - started
    rng = np.random.default_rng([trainer.seed, trainer.step_count, 3])  # not the run's own
    more = trainer.sample(wide, rng=rng) if wide else []
    window = min(LOSS_WINDOW, max(1, len(losses) // 4))
    return PackResult(
        slug=slug,
        steps=len(losses),
        first_loss=sum(losses[:window]) / window,
        final_loss=sum(losses[-window:]) / window,
        ln_vocab=math.log(trainer.vocab.size),
        samples=samples,
        adherent=adherence(pattern, samples)[0],
        seconds=seconds,
        wide_adherent=adherence(pattern, more)[0] if more else 0,
        wide_count=len(more),
    )


def train_builtin(spec, **kwargs):
    return train(spec.slug, spec.lines(), spec.adherence_pattern, spec.recommended_config, **kwargs)
