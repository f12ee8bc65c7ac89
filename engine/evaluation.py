"""Looking without learning: the validation split, and a forward pass with no backward (held-out
lines, the probe line) that keeps what the run page shows of it."""

import numpy as np


def split_documents(count, seed, share=0.1, min_docs=10):
    """(training indices, held-out indices) of `count` documents: a seeded `share` held out
    (at least one, never all); nothing held out when there are fewer than `min_docs`."""
    if count < min_docs:
        return list(range(count)), []
    order = np.random.default_rng([seed, 3]).permutation(count)
    held = max(1, round(share * count))
    return sorted(order[held:].tolist()), order[:held].tolist()


def look(model, tokens, top_k=None):
    """One forward pass on `tokens` (inputs tokens[:-1], targets tokens[1:]), no backward.
    Returns the mean loss, the loss at each position, and which MLP units were active
    (relu > 0 at any position; (n_layer, 4C)); with `top_k` also what a snapshot shows."""
    tokens = np.asarray(tokens, np.intp)
    targets = tokens[1:]
    tape = model.forward(tokens[:-1], targets)
    logits = tape.find("logits")[0].value.astype(np.float64)  # (T, V)
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    rows = np.arange(len(targets))
    out = {
        "loss": float(tape.nodes[-1].value),
        "losses": -log_probs[rows, targets],  # (T,)
        "relu_active": np.stack([(n.value > 0).any(0) for n in tape.find("mlp relu")]),
    }
    if top_k:
        out.update(predictions(tape, tokens, top_k))
    return out


def predictions(tape, tokens, top_k):
    """What a snapshot keeps of a forward pass on `tokens` (its tape ends in the loss)."""
    probs = tape.nodes[-1].saved["probs"]  # (T, V)
    targets = tokens[1:]
    topk_ids = np.argsort(-probs, axis=-1, kind="stable")[:, :top_k]  # (T, k)
    return {
        "tokens": tokens[:-1], "targets": targets, "topk_ids": topk_ids,
        "topk_probs": np.take_along_axis(probs, topk_ids, -1),
        "target_probs": probs[np.arange(len(targets)), targets],  # (T,)
        "attn_weights": np.stack([n.value for n in tape.find("attention weights")]),
    }
