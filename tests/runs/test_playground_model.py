"""runs/playground_model.py: the playground's numbers against an independent forward pass,
seeded generation, and the bounded model cache."""

import numpy as np
import pytest

from engine import GPT, GPTConfig
from engine.ops import RMS_EPS
from runs.playground_model import ModelCache, draw_next, generate, read


def reference_forward(params, n_head, ids):
    """The model written out in float64 NumPy, independent of the engine's tape: (probs of
    every position (T, V), attention weights (n_layer, n_head, T, T))."""
    p = {k: np.asarray(v, np.float64) for k, v in params.items()}

    def rms(x):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + RMS_EPS)

    def softmax(z):
        z = np.exp(z - z.max(-1, keepdims=True))
        return z / z.sum(-1, keepdims=True)

    t = len(ids)
    x = rms(p["wte"][ids] + p["wpe"][:t])
    n_layer = sum(1 for k in p if k.endswith("attn_wq"))
    c = x.shape[1]
    d = c // n_head
    attn = []
    for i in range(n_layer):
        h = rms(x)
        q, k, v = (
            (h @ p[f"layer{i}.attn_{w}"].T).reshape(t, n_head, d).transpose(1, 0, 2)
            for w in ("wq", "wk", "wv")
        )
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(d) + np.triu(np.full((t, t), -np.inf), 1)
        weights = softmax(scores)  # (H, T, T)
        attn.append(weights)
        out = (weights @ v).transpose(1, 0, 2).reshape(t, c)
        x = x + out @ p[f"layer{i}.attn_wo"].T
        h = rms(x)
        x = x + np.maximum(h @ p[f"layer{i}.mlp_fc1"].T, 0) @ p[f"layer{i}.mlp_fc2"].T
    return softmax(x @ p["lm_head"].T), np.stack(attn)


@pytest.fixture
def model():
    config = GPTConfig(vocab_size=9, n_embd=16, n_head=4, n_layer=2, block_size=12)
    return GPT(config, seed=3)


def test_the_reading_equals_an_independent_full_forward_pass(model):
    ids = [8, 1, 4, 4, 2, 7, 0]
    reading = read(model, ids)
    probs, attn = reference_forward(model.params, 4, ids)
    np.testing.assert_allclose(reading.probs, probs, rtol=2e-5, atol=1e-7)
    np.testing.assert_allclose(reading.attn_weights, attn, rtol=2e-5, atol=1e-7)
    np.testing.assert_allclose(reading.next_probs.sum(), 1.0, rtol=1e-12)
    # each character's surprise is the probability its prefix alone gives it
    for t, (p, loss) in enumerate(reading.surprise()):
        alone = reference_forward(model.params, 4, ids[: t + 1])[0][-1]
        assert p == pytest.approx(alone[ids[t + 1]], rel=2e-5)
        assert loss == pytest.approx(-np.log(alone[ids[t + 1]]), rel=2e-5)


def test_one_character_at_a_time_gives_what_generating_to_the_end_gives(model):
    bos = 8
    whole, why = generate(model, [bos, 1], 0.9, 0, seed=11, bos=bos)
    assert why in ("bos", "block")
    ids = [bos, 1]
    for expected in whole:
        drawn = draw_next(model, ids, 0.9, 0, seed=11)
        assert drawn.token == expected.token
        np.testing.assert_array_equal(drawn.probs, expected.probs)
        ids.append(drawn.token)
    again, _ = generate(model, [bos, 1], 0.9, 0, seed=11, bos=bos)
    assert [d.token for d in again] == [d.token for d in whole]
    texts = {tuple(d.token for d in generate(model, [bos], 1.5, 0, seed=s, bos=bos)[0])
             for s in range(8)}
    assert len(texts) > 1  # another seed, another text


def test_the_drawn_distribution_is_the_softmax_at_the_temperature_cut_to_top_k(model):
    ids = [8, 2, 3]
    logits = np.asarray(model.logits(ids)[-1], np.float64)
    drawn = draw_next(model, ids, 0.5, 3, seed=1)
    kept = np.argsort(-logits)[:3]
    expected = np.zeros_like(logits)
    expected[kept] = np.exp(logits[kept] / 0.5) / np.exp(logits[kept] / 0.5).sum()
    np.testing.assert_allclose(drawn.probs, expected, rtol=1e-9, atol=1e-15)
    assert drawn.token in kept


def test_generation_stops_when_the_block_is_full(model):
    bos = 8
    # 12 tokens fill the block: one more character can be drawn, as in training's samples
    draws, why = generate(model, [bos, *([1] * 11)], 2.0, 0, seed=0, bos=bos)
    assert len(draws) == 1 and why == ("bos" if draws[0].token == bos else "block")


class Sized:
    def __init__(self, nbytes):
        self.flat = np.zeros(nbytes, np.uint8)


def test_the_cache_is_bounded_by_bytes_and_drops_the_least_recently_used():
    cache = ModelCache(max_bytes=300)
    loads = []

    def loader(key, nbytes=100):
        return lambda: loads.append(key) or Sized(nbytes)

    for key in "abc":
        cache.get(key, loader(key))
    cache.get("a", loader("a"))  # a hit: now the most recent
    cache.get("d", loader("d"))  # over 300 bytes: b, the least recent, goes
    assert loads == ["a", "b", "c", "d"]
    assert list(cache.models) == ["c", "a", "d"] and cache.bytes == 300
    cache.get("b", loader("b", nbytes=250))
    assert list(cache.models) == ["b"] and cache.bytes == 250  # the newest always stays
