"""Ablation: switch heads, or whole attention or MLP blocks, off and measure the damage.

A switched-off part adds nothing to the residual stream (engine masks: its output times 0);
everything after it runs as usual on what is left. "h0.1" is layer 0's head 1, "attn0" all
of layer 0's heads, "mlp1" layer 1's MLP block.
"""

import re
from dataclasses import dataclass

import numpy as np

from engine import look_inside
from runs.lenses.ladder import softmax

PART = re.compile(r"^(?:h(\d)\.(\d)|attn(\d)|mlp(\d))$")


@dataclass
class Ablation:
    head_mask: np.ndarray  # (n_layer, n_head), 0 = off
    mlp_mask: np.ndarray  # (n_layer,)
    parts: list  # the parts as given, sorted

    @property
    def empty(self):
        return not self.parts


def parse_ablation(values, n_layer, n_head):
    """An Ablation from parts like ["h0.1", "attn1", "mlp0"]; ValueError naming a bad one."""
    head_mask, mlp_mask = np.ones((n_layer, n_head)), np.ones(n_layer)
    parts = sorted({v.strip() for v in values if v.strip()})
    for part in parts:
        match = PART.match(part)
        numbers = [int(g) for g in match.groups() if g is not None] if match else []
        if not numbers or numbers[0] >= n_layer or (len(numbers) == 2 and numbers[1] >= n_head):
            raise ValueError(
                f"“{part[:20]}” is not a part of this model: it has layers 0 to {n_layer - 1}, "
                f"each with heads 0 to {n_head - 1} (h0.1 is layer 0's head 1), attention "
                "blocks attn0… and MLP blocks mlp0…"
            )
        if part.startswith("h"):
            head_mask[numbers[0], numbers[1]] = 0
        elif part.startswith("attn"):
            head_mask[numbers[0]] = 0
        else:
            mlp_mask[numbers[0]] = 0
    return Ablation(head_mask, mlp_mask, parts)


def position_losses(logits, targets):
    """(T,) −log p(target) at each position."""
    probs = softmax(logits)
    return -np.log(np.maximum(probs[np.arange(len(targets)), targets], 1e-300))


def ablated_logits(model, ids, ablation):
    if ablation.empty:
        return model.logits(ids)
    return look_inside(model, ids, ablation.head_mask, ablation.mlp_mask).logits


def mean_loss(model, token_lists, ablation=None):
    """The mean loss over lines (token id arrays, BOS … BOS): each line's mean loss per
    character, averaged over the lines; None without lines."""
    losses = []
    for tokens in token_lists:
        logits = model.logits(tokens[:-1]) if ablation is None else ablated_logits(
            model, tokens[:-1], ablation)
        losses.append(position_losses(logits, tokens[1:]).mean())
    return float(np.mean(losses)) if losses else None


def mean_loss_change(model, token_lists, ablation, before=None):
    """(mean loss before, mean loss after switching off) over lines; `before` when known."""
    before = mean_loss(model, token_lists) if before is None else before
    return before, mean_loss(model, token_lists, ablation)
