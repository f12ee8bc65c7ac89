"""Every op's backward rule against central finite differences, in float64."""

import numpy as np
import pytest

from engine import ops

from .gradcheck import numeric_grad, rel_err

T, C, H, V = 5, 8, 2, 7
rng = np.random.default_rng(0)


def randn(*shape):
    return rng.normal(size=shape)


MASK = np.triu(np.full((T, T), -np.inf), 1)


# (op, inputs, constants); integer inputs get no gradient
CASES = [
    (ops.embedding, [randn(V, C), np.array([3, 1, 3, 0, 6])], {}),
    (ops.add, [randn(T, C), randn(T, C)], {}),
    (ops.rmsnorm, [randn(T, C)], {}),
    (ops.rmsnorm, [1e-3 * randn(T, C)], {}),  # small rows: eps matters
    (ops.matmul, [randn(T, C), randn(4 * C, C)], {}),
    (ops.split_heads, [randn(T, C)], {"n_head": H}),
    (ops.merge_heads, [randn(H, T, C // H)], {}),
    (ops.attention_scores, [randn(H, T, C // H), randn(H, T, C // H)], {}),
    (ops.causal_mask, [randn(H, T, T)], {"mask": MASK}),
    (ops.softmax, [randn(H, T, T)], {}),
    (ops.weighted_sum, [np.abs(randn(H, T, T)), randn(H, T, C // H)], {}),
    (ops.mask, [randn(H, T, C // H)], {"keep": np.array([0.0, 1.0])[:, None, None]}),
    (ops.mask, [randn(T, C)], {"keep": 0.0}),
    (ops.relu, [np.sign(randn(T, C)) * (0.1 + np.abs(randn(T, C)))], {}),  # away from the kink
    (ops.cross_entropy, [randn(T, V), np.array([1, 6, 0, 0, 2])], {}),
    (ops.cross_entropy, [randn(T, V), np.array([1, 6, 0, 0, 2])], {"positions": np.array([3])}),
    (ops.cross_entropy, [3 * randn(T, V), np.array([1, 6, 0, 0, 2])],
     {"positions": np.array([0, 2, 4])}),
]


@pytest.mark.parametrize(("fn", "inputs", "consts"), CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_backward_matches_finite_differences(fn, inputs, consts):
    value, backward = fn(*inputs, **consts)[:2]
    dy = rng.normal(size=np.shape(value))  # a random upstream gradient

    def loss():  # <y, dy>, whose gradient w.r.t. the inputs is what backward returns
        y = fn(*inputs, **consts)[0]
        return float(np.sum(y * dy, where=np.isfinite(y)))  # masked scores are −inf

    grads = backward(dy)
    assert len(grads) == len(inputs)
    for x, g in zip(inputs, grads, strict=True):
        if x.dtype.kind == "i":
            assert g is None
            continue
        assert g.shape == x.shape
        assert rel_err(g, numeric_grad(loss, x)) <= 1e-6


def test_masked_softmax_puts_no_weight_or_gradient_above_the_diagonal():
    masked, mask_back = ops.causal_mask(randn(H, T, T), MASK)
    weights, soft_back = ops.softmax(masked)
    assert np.allclose(weights.sum(-1), 1)
    assert np.all(weights[:, np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] == 0)
    (ds,) = mask_back(*soft_back(randn(H, T, T)))
    assert np.all(np.isfinite(ds)) and np.all(np.triu(ds[0], 1) == 0)


def test_cross_entropy_value_and_probs():
    logits, targets = randn(T, V), np.array([1, 6, 0, 0, 2])
    loss, _, saved = ops.cross_entropy(logits, targets)
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    assert np.allclose(saved["probs"], p)
    assert np.isclose(loss, -np.mean(np.log(p[np.arange(T), targets])))
    one, _, _ = ops.cross_entropy(logits, targets, positions=np.array([2]))
    assert np.isclose(one, -np.log(p[2, targets[2]]))


def test_ops_keep_float32():
    x = rng.normal(size=(T, C)).astype(np.float32)
    w = rng.normal(size=(C, C)).astype(np.float32)
    q = ops.split_heads(ops.matmul(ops.rmsnorm(x)[0], w)[0], n_head=H)[0]
    scores, back = ops.attention_scores(q, q)
    assert scores.dtype == np.float32
    assert all(g.dtype == np.float32 for g in back(np.ones_like(scores)))
    loss, back, _ = ops.cross_entropy(x, np.arange(T))
    assert loss.dtype == np.float32 and back(np.float32(1))[0].dtype == np.float32


def test_every_op_has_a_name_and_formula():
    for fn, _, _ in CASES:
        assert fn.op_name and fn.formula
