"""engine/sampling.py: temperature, the top-k cut and one seeded draw."""

import numpy as np

from engine.sampling import draw, sampling_weights


def test_weights_are_the_softmax_at_the_temperature():
    logits = np.array([2.0, 1.0, 0.0, -1.0])
    for temperature in (0.5, 1.0, 2.0):
        w = sampling_weights(logits, temperature)
        expected = np.exp(logits / temperature) / np.exp(logits / temperature).sum()
        np.testing.assert_allclose(w / w.sum(), expected, rtol=1e-12)


def test_top_k_keeps_only_the_k_likeliest():
    logits = np.array([0.5, 3.0, -1.0, 2.0, 1.0])
    w = sampling_weights(logits, 1.0, top_k=2)
    assert set(np.flatnonzero(w)) == {1, 3}
    np.testing.assert_allclose(w[[1, 3]] / w.sum(), np.exp([3.0, 2.0]) / np.exp([3.0, 2.0]).sum())
    assert np.array_equal(sampling_weights(logits, 1.0, top_k=0), sampling_weights(logits, 1.0))
    assert np.array_equal(sampling_weights(logits, 1.0, top_k=9), sampling_weights(logits, 1.0))


def test_draw_follows_the_weights_and_never_picks_a_cut_token():
    weights = np.array([0.0, 1.0, 3.0, 0.0])
    rng = np.random.default_rng(0)
    counts = np.bincount([draw(weights, rng) for _ in range(4000)], minlength=4)
    assert counts[0] == counts[3] == 0
    assert abs(counts[2] / 4000 - 0.75) < 0.03
