"""Central finite differences, the reference every backward rule is checked against."""

import numpy as np


def numeric_grad(f, x, h=1e-5, coords=None):
    """d f() / d x by central differences; `x` is perturbed in place and restored.
    With `coords` (flat indices) only those entries are estimated."""
    flat = x.reshape(-1)  # a view: perturbing it perturbs x
    coords = range(flat.size) if coords is None else coords
    out = []
    for i in coords:
        old = flat[i]
        flat[i] = old + h
        up = f()
        flat[i] = old - h
        down = f()
        flat[i] = old
        out.append((up - down) / (2 * h))
    return np.array(out)


def rel_err(analytic, numeric):
    analytic, numeric = np.ravel(analytic), np.ravel(numeric)
    return np.linalg.norm(analytic - numeric) / max(np.linalg.norm(numeric), 1e-12)
