"""Tensors as compact heatmaps for the op view's canvases (drawn by static/js/opview.js).

Heatmaps travel as base64 int8 (value / max|value| × 127, −128 for a masked cell) pooled to
a few hundred cells, keeping the token's own row (the last one) unpooled; exact numbers are
in the side panel and the scalar expansion.
"""

import base64

import numpy as np

NODE_CELLS = 512  # per heatmap in the graph
PANEL_CELLS = 4096  # per heatmap in the side panel


def node_heatmap(node, array, cells=NODE_CELLS):
    return heatmap(array, token_row=node.kind != "param", cells=cells)


def bin_edges(n, bins, keep_last):
    """Start of each bin over n rows; with keep_last the last row is a bin of its own."""
    if keep_last and bins < n:
        return [*((np.arange(bins - 1) * (n - 1)) // (bins - 1)), n - 1]
    return list((np.arange(bins) * n) // bins)


def heatmap(array, *, token_row=True, cells=NODE_CELLS):
    """A compact heatmap: {"data": base64 int8, "shape": "H R C" pooled, "src": "H R C"
    original, "scale", "keep_last", "only_token" (every row but the token's is 0 and only
    it is drawn)}. Each cell is the entry of largest magnitude in its bin
    (so a sign and a peak survive pooling); a cell that is all −inf (masked) is −128."""
    a = np.asarray(array, np.float64)
    a = a.reshape((1, 1, 1, *a.shape)[-3:]) if a.ndim < 3 else a
    if a.ndim != 3:
        raise ValueError(f"heatmap of a {a.ndim}-d array")
    h, r, c = a.shape
    src = f"{h} {r} {c}"
    # backward often reaches only the token's own row: then draw that row at full height
    # (the rest is stated as zero) rather than one thin line in an empty box
    only_token = bool(token_row and r > 1 and not np.any(a[:, :-1]))
    if only_token:
        a, r = a[:, -1:], 1
    per_head = max(1, cells // h)
    cols = min(c, 32 if h > 1 else 64, per_head)
    rows = min(r, max(1, per_head // cols))
    keep_last = (token_row and r > 1) or only_token
    a = np.where(np.isfinite(a), a, np.nan)
    if rows < r:
        a = pool(a, bin_edges(r, rows, keep_last), axis=1)
    if cols < c:
        a = pool(a, bin_edges(c, cols, False), axis=2)
    finite = np.isfinite(a)
    scale = float(np.abs(a[finite]).max()) if finite.any() else 0.0
    q = np.rint(np.where(finite, a, 0) / (scale or 1.0) * 127).astype(np.int8)
    q[~finite] = -128
    return {
        "data": base64.b64encode(q.tobytes()).decode(),
        "shape": f"{h} {a.shape[1]} {a.shape[2]}",
        "src": src,
        "scale": f"{scale:.4g}",
        "keep_last": int(keep_last),
        "only_token": int(only_token),
    }


def pool(a, starts, axis):
    """The entry of largest magnitude of each bin (NaN, a masked entry, only if all are)."""
    with np.errstate(invalid="ignore"):
        high, low = np.fmax.reduceat(a, starts, axis=axis), np.fmin.reduceat(a, starts, axis=axis)
        return np.where(np.isnan(high) | (high >= -low), high, low)
