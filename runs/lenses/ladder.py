"""The logit lens ladder and the direct contributions, both read from one forward pass
(engine.look_inside).

Ladder: the model's output is lm_head · (the residual stream after the last block). Applying
lm_head to the stream after the embeddings and after every earlier block (each "rung") shows
what the model would predict if it stopped there.

Direct contributions: the stream after the last block is a plain sum of what was written
into it (the embeddings' share, each head's output through its slice of attn_wo, each MLP
block's output) and nothing normalises it before lm_head, so the target's logit splits into
one term per part exactly (up to float rounding). What is NOT in these numbers: a part's
indirect effect through the blocks after it (layer 0's heads change what layer 1 reads), and
the effect on the probability, which also depends on every other character's logit.
"""

import numpy as np


def softmax(logits):
    logits = np.asarray(logits, np.float64)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def rung_logits(inside, lm_head):
    """(R, T, V) what each rung would predict: lm_head · stream."""
    return np.asarray(inside.rungs, np.float64) @ np.asarray(lm_head, np.float64).T


def decided_rungs(top1):
    """For each position, the rung from which the final answer is top-1 at every later rung:
    decided[t] = min{r : top1[r', t] = top1[R − 1, t] for all r' ≥ r}. top1 is (R, T), the
    best guess at each rung; the last rung is the output, so decided[t] ≤ R − 1."""
    top1 = np.asarray(top1)
    differs = top1 != top1[-1]  # (R, T)
    rungs = top1.shape[0]
    last_differs = np.where(differs.any(0), rungs - 1 - np.argmax(differs[::-1], 0), -1)
    return last_differs + 1


def top_k(probs, k):
    """[(id, probability)] of the k most likely ids of one distribution, best first."""
    ids = np.argsort(-probs, kind="stable")[:k]
    return [(int(i), float(probs[i])) for i in ids]


def direct_contributions(inside, params, pos, target):
    """[(part, layer, head, value)] each part's direct push on logit[pos, target]; the values
    sum to that logit. Parts: "character" and "position" (the embeddings' two shares), then
    per layer each "head" and the "mlp" block."""
    w = np.asarray(params["lm_head"][target], np.float64)  # (C,)
    parts = [
        ("character", None, None, float(inside.token_part[pos] @ w)),
        ("position", None, None, float(inside.position_part[pos] @ w)),
    ]
    n_layer, n_head, _, d = inside.head_outputs.shape
    for layer in range(n_layer):
        wo = np.asarray(params[f"layer{layer}.attn_wo"], np.float64)  # (C, C)
        for head in range(n_head):
            written = inside.head_outputs[layer, head, pos] @ wo[:, head * d : (head + 1) * d].T
            parts.append(("head", layer, head, float(written @ w)))
        parts.append(("mlp", layer, None, float(inside.mlp_outputs[layer, pos] @ w)))
    return parts
