"""The model's parameters, its whole-model gradients against finite differences, masking."""

import numpy as np
import pytest

from engine import GPT, GPTConfig

from .gradcheck import numeric_grad, rel_err

MAX = {"n_embd": 64, "n_head": 8, "n_layer": 2, "block_size": 64}


def make(vocab_size=11, n_embd=8, n_head=2, n_layer=1, block_size=8, dtype="float64", seed=0):
    return GPT(GPTConfig(vocab_size, n_embd, n_head, n_layer, block_size, dtype), seed=seed)


def test_parameter_names_shapes_and_init():
    model = make(vocab_size=30, **MAX)
    c = 64
    expected = {"wte": (30, c), "wpe": (64, c), "lm_head": (30, c)}
    for i in range(2):
        expected |= {f"layer{i}.attn_w{r}": (c, c) for r in "qkvo"}
        expected |= {f"layer{i}.mlp_fc1": (4 * c, c), f"layer{i}.mlp_fc2": (c, 4 * c)}
    assert {k: v.shape for k, v in model.params.items()} == expected
    values = np.concatenate([p.ravel() for p in model.params.values()])
    assert abs(values.std() - 0.08) < 0.002 and abs(values.mean()) < 0.002
    assert make(dtype="float32").params["wte"].dtype == np.float32


def test_init_depends_only_on_seed():
    a, b, c = make(seed=3), make(seed=3), make(seed=4)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.params["wte"], c.params["wte"])
    f32 = make(seed=3, dtype="float32")
    assert np.allclose(f32.params["wte"], a.params["wte"], atol=1e-7)


# Step h: tiny models have tiny attention gradients, which a larger step keeps above float64
# rounding noise; big models have many relu units, which a smaller step keeps from crossing 0.
@pytest.mark.parametrize(
    ("config", "coords_per_param", "h"),
    [
        ({"vocab_size": 5, "n_embd": 4, "n_head": 1, "n_layer": 1, "block_size": 4}, None, 1e-4),
        ({"vocab_size": 7, "n_embd": 8, "n_head": 2, "n_layer": 2, "block_size": 6}, None, 1e-4),
        ({"vocab_size": 12, "n_embd": 16, "n_head": 4, "n_layer": 2, "block_size": 16}, 40, 1e-5),
        ({"vocab_size": 30, **MAX}, 12, 1e-5),
        ({"vocab_size": 30, **MAX, "n_head": 4}, 12, 1e-5),
    ],
)
def test_model_gradients_match_finite_differences(config, coords_per_param, h):
    model = make(**config, seed=1)
    rng = np.random.default_rng(2)
    tokens = rng.integers(0, config["vocab_size"], config["block_size"] + 1)
    tokens[3] = tokens[1]  # a repeated token: its embedding gradient adds up
    _, grads = model.loss_and_grads(tokens)
    for name, param in model.params.items():
        coords = None
        if coords_per_param is not None:
            coords = rng.choice(param.size, coords_per_param, replace=False)
        numeric = numeric_grad(lambda: model.loss_and_grads(tokens)[0], param, h, coords)
        analytic = grads[name].ravel() if coords is None else grads[name].ravel()[coords]
        assert rel_err(analytic, numeric) <= 1e-6, name


def test_loss_over_chosen_positions():
    model = make(seed=5)
    tokens = np.array([10, 1, 2, 3, 4, 5, 10])
    loss, grads = model.loss_and_grads(tokens)
    logits = model.logits(tokens[:-1])
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    per_token = -logp[np.arange(6), tokens[1:]]
    assert np.isclose(loss, per_token.mean())
    singles = [model.loss_and_grads(tokens, positions=[t]) for t in range(6)]
    assert np.allclose([s[0] for s in singles], per_token)
    for name in grads:  # the mean loss's gradient is the mean of the per-token gradients
        assert np.allclose(grads[name], np.mean([s[1][name] for s in singles], axis=0))
    pair, _ = model.loss_and_grads(tokens, positions=[1, 4])
    assert np.isclose(pair, per_token[[1, 4]].mean())


def test_attention_is_causal():
    model = make(n_layer=2, seed=6)
    a = model.logits([10, 1, 2, 3, 4])
    b = model.logits([10, 1, 2, 7, 8])
    assert np.allclose(a[:3], b[:3]) and not np.allclose(a[3:], b[3:])


def test_float32_training_precision_agrees_with_float64():
    tokens = np.random.default_rng(0).integers(0, 30, 65)
    l64, g64 = make(vocab_size=30, **MAX, dtype="float64").loss_and_grads(tokens)
    l32, g32 = make(vocab_size=30, **MAX, dtype="float32").loss_and_grads(tokens)
    assert abs(l32 - l64) < 1e-5 and g32["wte"].dtype == np.float32
    assert all(rel_err(g32[k], g64[k]) < 1e-4 for k in g64)


@pytest.mark.parametrize(
    ("tokens", "positions", "message"),
    [
        ([1], None, "at least 2"),
        ([1, 11], None, "token ids must be in 0..10"),
        ([-1, 2], None, "token ids"),
        (list(range(10)), None, "1 to 8 token ids"),
        ([1, 2, 3], [2], "positions must be distinct and in 0..1"),
        ([1, 2, 3], [0, 0], "distinct"),
        ([1, 2, 3], [], "distinct"),
    ],
)
def test_bad_inputs_raise(tokens, positions, message):
    with pytest.raises(ValueError, match=message):
        make().loss_and_grads(tokens, positions)
