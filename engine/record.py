"""What one training step reports, and its JSON-able forms for storage."""

from dataclasses import dataclass

import numpy as np


def rounded(a, digits=4):
    """Nested lists of floats kept to `digits` significant digits; inf and nan become None."""
    a = np.asarray(a, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.floor(np.log10(np.abs(a)))
    decimals = np.clip(digits - 1 - np.nan_to_num(magnitude, posinf=0, neginf=0), 0, 20)
    scale = 10.0**decimals
    with np.errstate(invalid="ignore"):
        out = np.round(a * scale) / scale  # exact scale, so the float prints short
    if np.isfinite(out).all():
        return out.tolist()
    return np.where(np.isfinite(out), out, None).tolist()


@dataclass
class StepRecord:
    """`step` counts steps done: the record of the first step has step == 1. `loss` is that
    step's loss before its update, `lr` the learning rate its update used. Groups are
    'embeddings', 'layer{i}.attn', 'layer{i}.mlp', 'lm_head' and 'total'. The arrays are
    None unless the trainer captures; `samples` is set every sample_interval steps."""

    step: int
    loss: float
    lr: float
    grad_norms: dict
    update_norms: dict
    doc_index: int
    tokens: np.ndarray | None = None  # (T,) input ids
    targets: np.ndarray | None = None  # (T,) next ids
    topk_ids: np.ndarray | None = None  # (T, k) most likely next ids, best first
    topk_probs: np.ndarray | None = None  # (T, k)
    target_probs: np.ndarray | None = None  # (T,) probability given to the target
    attn_weights: np.ndarray | None = None  # (n_layer, n_head, T, T), rows sum to 1
    samples: list | None = None

    def to_scalars(self):
        return {
            "step": self.step,
            "loss": self.loss,
            "lr": self.lr,
            "grad_norms": {g: rounded(n, 5) for g, n in self.grad_norms.items()},
            "update_norms": {g: rounded(n, 5) for g, n in self.update_norms.items()},
        }

    def to_snapshot(self):
        if self.tokens is None:
            raise ValueError("this step was not captured (Trainer(capture=False))")
        return {
            "step": self.step,
            "loss": self.loss,
            "doc_index": self.doc_index,
            "tokens": self.tokens.tolist(),
            "targets": self.targets.tolist(),
            "topk_ids": self.topk_ids.tolist(),
            "topk_probs": rounded(self.topk_probs),
            "target_probs": rounded(self.target_probs),
            "attn_weights": rounded(self.attn_weights),
        }
