"""Tensor ops, each forward next to its backward rule.

An op is a plain NumPy function `op(*inputs, **consts) -> (value, backward[, saved])`;
`backward(dy)` returns one gradient per input (None for integer inputs) and never writes
into `dy`, so a gradient may be shared. `saved` holds extra tensors worth showing.
Weights are [out, in]: y = x @ W.T.  Shapes: T tokens, C n_embd, H n_head, D head_dim,
V vocab_size.
"""

import numpy as np

RMS_EPS = 1e-5


def op(name, formula):
    """Give an op the name and backward formula that the trace shows."""

    def mark(fn):
        fn.op_name, fn.formula = name, formula
        return fn

    return mark


@op("embedding lookup", "dW = onehot(ids)ᵀ · dy")
def embedding(w, ids):
    # w (N, C), ids (T,) -> (T, C)
    def backward(dy):
        # a one-hot matmul adds up the rows of repeated ids (no slow np.add.at)
        onehot = np.zeros((len(ids), len(w)), w.dtype)  # (T, N)
        onehot[np.arange(len(ids)), ids] = 1
        return onehot.T @ dy, None

    return w[ids], backward


@op("add", "dx = dy ;  dr = dy")
def add(x, r):
    return x + r, lambda dy: (dy, dy)


@op("rmsnorm", "dx = (dy − y · mean(y ⊙ dy)) / rms")
def rmsnorm(x):
    # x (T, C) -> y (T, C), every row scaled to root-mean-square 1
    rms = np.sqrt((x * x).mean(-1, keepdims=True) + RMS_EPS)  # (T, 1)
    y = x / rms

    def backward(dy):
        return ((dy - y * (y * dy).mean(-1, keepdims=True)) / rms,)

    return y, backward


@op("matmul", "dx = dy · W ;  dW = dyᵀ · x")
def matmul(x, w):
    # x (T, in), w (out, in) -> (T, out)
    return x @ w.T, lambda dy: (dy @ w, dy.T @ x)


def _merge(x):
    # (H, T, D) -> (T, H*D)
    h, t, d = x.shape
    return x.transpose(1, 0, 2).reshape(t, h * d)


def _split(x, n_head):
    # (T, C) -> (H, T, D), a view
    t, c = x.shape
    return x.reshape(t, n_head, c // n_head).transpose(1, 0, 2)


@op("split heads", "dx = merge_heads(dy)")
def split_heads(x, n_head):
    return _split(x, n_head), lambda dy: (_merge(dy),)


@op("merge heads", "dx = split_heads(dy)")
def merge_heads(x):
    n_head = x.shape[0]
    return _merge(x), lambda dy: (_split(dy, n_head),)


@op("attention scores", "dq = ds · k / √D ;  dk = dsᵀ · q / √D")
def attention_scores(q, k):
    # q, k (H, T, D) -> scores (H, T, T): query i against key j
    scale = q.shape[-1] ** -0.5  # a Python float keeps float32 float32

    def backward(ds):
        ds = ds * scale
        return ds @ k, ds.transpose(0, 2, 1) @ q

    return (q @ k.transpose(0, 2, 1)) * scale, backward


@op("causal mask", "dx = dy ⊙ [j ≤ i]")
def causal_mask(scores, mask):
    # scores (H, T, T); mask (T, T) is 0 where key j ≤ query i, −inf above: no peeking ahead
    return scores + mask, lambda dy: (dy * (mask == 0),)


@op("softmax", "dx = y ⊙ (dy − Σⱼ y ⊙ dy)")
def softmax(x):
    # over the last axis
    e = np.exp(x - x.max(-1, keepdims=True))
    y = e / e.sum(-1, keepdims=True)
    return y, lambda dy: (y * (dy - (y * dy).sum(-1, keepdims=True)),)


@op("weighted sum", "dA = dy · vᵀ ;  dv = Aᵀ · dy")
def weighted_sum(attn_weights, v):
    # attn_weights (H, T, T), v (H, T, D) -> (H, T, D)
    def backward(dy):
        return dy @ v.transpose(0, 2, 1), attn_weights.transpose(0, 2, 1) @ dy

    return attn_weights @ v, backward


@op("mask", "dx = dy ⊙ keep")
def mask(x, keep):
    # keep broadcasts over x: (H, 1, 1) switches heads off, a scalar a whole block; 1 keeps
    return x * keep, lambda dy: (dy * keep,)


@op("relu", "dx = dy ⊙ [x > 0]")
def relu(x):
    return np.maximum(x, 0), lambda dy: (dy * (x > 0),)


@op("cross-entropy", "dlogits = (softmax(logits) − onehot(target)) / P")
def cross_entropy(logits, targets, positions=None):
    # logits (T, V), targets (T,) -> mean of −log p(target) over the P rows in `positions`
    rows = np.arange(len(targets)) if positions is None else positions
    picked = targets[rows]
    shifted = logits - logits.max(-1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(-1, keepdims=True)  # (T, 1)
    probs = e / total  # (T, V)
    loss = (np.log(total[rows, 0]) - shifted[rows, picked]).mean()

    def backward(dloss):
        if positions is None:
            dlogits = probs.copy()
        else:
            dlogits = np.zeros_like(probs)
            dlogits[rows] = probs[rows]
        dlogits[rows, picked] -= 1
        return dlogits * (dloss / len(rows)), None

    return loss, backward, {"probs": probs}
