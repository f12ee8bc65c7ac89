"""One node of the op view expanded to exact numbers: the token's row (of a chosen head)
and its gradient once backward has reached it; for attention, the dot product per key."""

import numpy as np

from runs.opview.numbers import fmt, shape_text
from runs.opview.side import token_index, token_row


def node_scalars(view, node_id, head):
    node = view.trace.nodes[node_id]
    n_head = np.shape(node.value)[0] if node.heads else 0
    head = min(max(head or 0, 0), n_head - 1) if node.heads else None
    t, token = view.pos, view.tokens[view.pos]
    grad_shown = node.id in view.done and node.grad is not None
    value_row = token_row(node, node.value, head or 0, token, t)
    grad_row = token_row(node, node.grad, head or 0, token, t) if grad_shown else None
    flat = entry_flat_indices(node, token_index(node, head or 0, token, t)) if grad_shown else None
    entries = []
    if value_row is not None:
        for j, v in enumerate(value_row):
            g = None if grad_row is None else fmt(float(grad_row[j]))
            entries.append(
                {
                    "index": j,
                    "value": fmt(float(v)),
                    "grad": g,
                    "flat": None if flat is None else flat[j],
                }
            )
    keys = attention_keys(view, node, head) if node.heads else None
    return {
        "node": {
            "id": node.id,
            "label": node.label,
            "op": node.op,
            "shape": shape_text(node.value),
            "heads": list(range(n_head)),
            "head": head,
            "grad_shown": grad_shown,
            "is_ids": node.kind == "input",
            "row_name": row_name(node, view.pos, view.tokens, view.labels),
        },
        "entries": entries,
        "keys": keys,
    }


def entry_flat_indices(node, index):
    """Flat index into the node's tensor of each entry of the token's row at `index`."""
    if index is None:
        return None
    positions = np.arange(np.size(node.value)).reshape(np.shape(node.value))
    return [int(i) for i in np.asarray(positions[index]).reshape(-1)]


def row_name(node, pos, tokens, labels):
    if node.kind == "param":
        if node.name == "wte":
            return f"row {tokens[pos]} (“{labels[tokens[pos]]}”)"
        if node.name == "wpe":
            return f"row {pos} (position {pos})"
        return "(a weight matrix: click it in the weights panel for its heatmap)"
    if node.kind == "input":
        return "the whole input, one integer id per position"
    return f"position {pos} (“{labels[tokens[pos]]}”)"


def attention_keys(view, node, head):
    """For the attention ops of a head: per key j ≤ t, the dot product q·k that made the
    score, the score (÷ √D) and the weight; plus the products of the strongest key."""
    layer_nodes = [n for n in view.trace.nodes if n.layer == node.layer and n.heads]
    named = {n.name: n for n in layer_nodes}
    if not {"query heads", "key heads", "attention weights"} <= named.keys():
        return None
    if node.name not in ("attention scores", "masked scores", "attention weights"):
        return None
    t = view.pos
    q = np.asarray(named["query heads"].value[head, t], np.float64)  # (D,)
    k = np.asarray(named["key heads"].value[head, : t + 1], np.float64)  # (t+1, D)
    weights = np.asarray(named["attention weights"].value[head, t, : t + 1], np.float64)
    dots = k @ q
    scale = np.sqrt(q.shape[0])
    best = int(np.argmax(weights))
    rows = [
        {
            "j": j,
            "char": view.labels[view.tokens[j]],
            "dot": fmt(float(dots[j])),
            "score": fmt(float(dots[j] / scale)),
            "weight": fmt(float(weights[j])),
            "best": j == best,
        }
        for j in range(t + 1)
    ]
    products = [
        {
            "d": d,
            "q": fmt(float(q[d])),
            "k": fmt(float(k[best, d])),
            "p": fmt(float(q[d] * k[best, d])),
        }
        for d in range(q.shape[0])
    ]
    return {"rows": rows, "best": best, "products": products, "sqrt_d": fmt(float(scale))}
