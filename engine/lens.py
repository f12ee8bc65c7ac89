"""Named points where the lenses read the model, all from one forward pass (the training tape).

The residual stream is read after the embeddings and after each attention and MLP block: the
rungs of the logit lens ("embeddings", "layer 0 attention", "layer 0 mlp", ...). There is no
norm after the last block, so lm_head · (last rung) is exactly the model's output, and the
last rung is the sum of everything written into the stream.
"""

from dataclasses import dataclass

import numpy as np

from .ops import RMS_EPS

RUNG_NODES = {"embedding rmsnorm": "embeddings", "residual + attention": "attention",
              "residual + mlp": "mlp"}


@dataclass
class Inside:
    """What one forward pass wrote, position by position (T positions, C = n_embd)."""

    rung_names: list  # "embeddings", "layer 0 attention", "layer 0 mlp", ...
    rungs: np.ndarray  # (R, T, C) the residual stream after each block
    logits: np.ndarray  # (T, V) the model's output
    attn_weights: np.ndarray  # (n_layer, n_head, T, T)
    head_outputs: np.ndarray  # (n_layer, n_head, T, D) each head's weighted sum (masked)
    mlp_outputs: np.ndarray  # (n_layer, T, C) what each MLP block added (masked)
    token_part: np.ndarray  # (T, C) the character's share of the first rung
    position_part: np.ndarray  # (T, C) the position's share: token_part + position_part = rung 0


def look_inside(model, ids, head_mask=None, mlp_mask=None):
    """One forward pass over `ids`, with heads or MLP blocks switched off by the masks
    (see GPT.forward), read at its named points."""
    tape = model.forward(ids, head_mask=head_mask, mlp_mask=mlp_mask)
    names, rungs = [], []
    for node in tape.nodes:
        part = RUNG_NODES.get(node.name)
        if part:
            names.append(part if node.layer is None else f"layer {node.layer} {part}")
            rungs.append(node.value)
    heads = "masked heads" if head_mask is not None else "head outputs"
    mlps = "masked mlp" if mlp_mask is not None else "mlp output"
    # rmsnorm divides the sum by one number per position (its rms), so the shares are exact
    total = tape.find("embedding sum")[0].value  # (T, C)
    scale = 1 / np.sqrt((total * total).mean(-1, keepdims=True) + RMS_EPS)  # (T, 1)
    return Inside(
        rung_names=names,
        rungs=np.stack(rungs),
        logits=tape.nodes[-1].value,
        attn_weights=np.stack([n.value for n in tape.find("attention weights")]),
        head_outputs=np.stack([n.value for n in tape.find(heads)]),
        mlp_outputs=np.stack([n.value for n in tape.find(mlps)]),
        token_part=tape.find("token embedding")[0].value * scale,
        position_part=tape.find("position embedding")[0].value * scale,
    )
