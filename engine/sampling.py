"""Drawing the next token: temperature, an optional top-k cut, and one seeded draw.

weights = exp((logits - max) / temperature), all but the top_k largest set to 0; the
distribution drawn from is weights / sum(weights).
"""

import numpy as np


def sampling_weights(logits, temperature, top_k=None):
    """(V,) unnormalised weights of the next token (float64); top_k None or 0: no cut."""
    logits = np.asarray(logits, np.float64)
    weights = np.exp((logits - logits.max()) / temperature)
    if top_k and top_k < len(weights):
        kept = np.argsort(-logits, kind="stable")[:top_k]
        cut = np.zeros_like(weights)
        cut[kept] = weights[kept]
        weights = cut
    return weights


def draw(weights, rng):
    """One token id, with probability weights[i] / sum(weights), from one rng.random()."""
    cdf = np.cumsum(weights)
    return min(int(np.searchsorted(cdf, rng.random() * cdf[-1])), len(weights) - 1)
