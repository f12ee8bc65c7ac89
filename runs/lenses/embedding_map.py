"""The embedding map: every character's embedding (a row of wte) drawn in 2-D at every
stored step, on one fixed pair of directions so the frames can be compared.

The directions are the final stored step's two principal components: centre the final
wte's rows on their mean m, take the two right singular vectors v1, v2 with the largest
singular values. A character's point at step s is ((wte_s[c] − m) · v1, (wte_s[c] − m) · v2).
Its neighbours are the characters whose embeddings at step s point the most the same way
(cosine similarity of the full vectors, not of the 2-D points).
"""

import io

import numpy as np
from django.core.cache import cache

from runs.page import BOS_LABEL, token_labels

NEIGHBOURS = 3


def wte_at_steps(run):
    """[(step, wte)] of every stored checkpoint, by step (only wte is decompressed)."""
    out = []
    for step, blob in run.checkpoints.order_by("step").values_list("step", "blob"):
        with np.load(io.BytesIO(bytes(blob))) as npz:
            out.append((step, npz["wte"].astype(np.float64)))
    return out


def principal_directions(points):
    """(mean, (C, 2) the two principal directions, share of the spread they hold). Each
    direction's sign is fixed so its largest component is positive (the same data always
    gives the same picture)."""
    mean = points.mean(0)
    _, singular, vt = np.linalg.svd(points - mean, full_matrices=False)
    basis = vt[:2].T.copy()  # (C, 2)
    for k in range(basis.shape[1]):
        if basis[np.argmax(np.abs(basis[:, k])), k] < 0:
            basis[:, k] *= -1
    spread = float((singular**2).sum())
    return mean, basis, float((singular[:2] ** 2).sum() / spread) if spread else 0.0


def nearest(wte, count=NEIGHBOURS):
    """[[(id, cosine)]] each row's `count` most similar other rows, most similar first."""
    unit = wte / np.maximum(np.linalg.norm(wte, axis=1, keepdims=True), 1e-12)
    cos = unit @ unit.T
    np.fill_diagonal(cos, -np.inf)
    order = np.argsort(-cos, axis=1, kind="stable")[:, :count]
    return [[(int(j), round(float(cos[i, j]), 3)) for j in row] for i, row in enumerate(order)]


def char_group(label):
    if label == BOS_LABEL:
        return "bos"
    if label.isdigit():
        return "digit"
    if label.isalpha():
        return "letter"
    if label in ("␣", "↵", "⇥"):
        return "space"
    return "punct"


def embedding_map(run):
    """{"steps", "labels", "groups", "frames": [[[x, y] per char] per step],
    "neighbours": [[[[id, cos]] per char] per step], "explained"}; None without checkpoints.
    Cached: stored checkpoints never change."""
    steps = list(run.checkpoints.order_by("step").values_list("step", flat=True))
    if not steps or not run.vocab:
        return None
    key = f"lens-map:{run.pk}:{run.created_at.timestamp()}:{len(steps)}:{steps[-1]}"
    found = cache.get(key)
    if found is None:
        found = compute_map(run)
        cache.set(key, found, None if run.is_finished else 60)
    return found


def compute_map(run):
    stored = wte_at_steps(run)
    mean, basis, explained = principal_directions(stored[-1][1])
    labels = token_labels(run)
    return {
        "steps": [step for step, _ in stored],
        "labels": labels,
        "groups": [char_group(label) for label in labels],
        "frames": [np.round((wte - mean) @ basis, 4).tolist() for _, wte in stored],
        "neighbours": [nearest(wte) for _, wte in stored],
        "explained": round(explained, 3),
    }

