"""Norms, angles and number formats shared by the op view's panels and graph."""

import numpy as np


def cosine(a, b):
    """cos of the angle between two gradients: 1 = this token pushed the way the step did."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denom) if denom else 0.0


def norm(a):
    a = np.asarray(a, np.float64)
    return float(np.sqrt(np.sum(a * a, where=np.isfinite(a))))


def fmt(x):
    """Four significant digits; an exact zero is "0", never "-0"."""
    return f"{x:.4g}" if x else "0"


def shape_text(a):
    shape = np.shape(a)
    return "×".join(str(n) for n in shape) if shape else "scalar"
