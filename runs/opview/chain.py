"""The chain rule on one number: how one entry of a node's gradient was made.

    ∂loss/∂x[i] = Σ over the ops c that read x, Σ over the entries j of c's output
                  ∂loss/∂c[j]  ×  ∂c[j]/∂x[i]
                  (upstream)      (local derivative)

The entries j that depend on x[i] are found by running c's own forward with x[i] set to NaN
(a NaN spreads exactly to what depends on it); each local derivative is c's own backward
rule applied to a one-hot upstream gradient at j. Their products add up to the engine's
gradient entry; the page shows the largest terms and the sum of the rest.
"""

import numpy as np

from runs.opview.numbers import fmt

SHOWN_TERMS = 10


def consumers(view, node):
    """The ops that read `node`, with the input slot it fills (done in the backward pass)."""
    return [
        (c, slot)
        for c in view.trace.nodes[node.id + 1 :]
        if c.kind == "op" and c.grad is not None
        for slot, inp in enumerate(c.inputs)
        if inp is node
    ]


def dependent_entries(consumer, slot, index):
    """Indices of the consumer's output that depend on input `slot`'s entry `index`."""
    values = [np.asarray(inp.value) for inp in consumer.inputs]
    probe = values[slot].astype(np.float64)  # a copy
    probe[index] = np.nan
    values[slot] = probe
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.asarray(consumer.fn(*values, **consumer.consts)[0])
    return [tuple(int(k) for k in j) for j in np.argwhere(np.isnan(out))]


def local_derivative(consumer, slot, out_index, in_index):
    """∂consumer[out_index] / ∂input[in_index], by the op's backward rule on a one-hot dy."""
    onehot = np.zeros(np.shape(consumer.value), np.float64)
    onehot[out_index] = 1.0
    return float(np.asarray(consumer.backward(onehot)[slot], np.float64)[in_index])


def terms(view, node, index):
    """Every (consumer, j, upstream, local, product) that adds to node.grad[index]."""
    out = []
    for consumer, slot in consumers(view, node):
        upstream = np.asarray(consumer.grad, np.float64)
        for j in dependent_entries(consumer, slot, index):
            local = local_derivative(consumer, slot, j, index)
            up = float(upstream[j])
            out.append(
                {"consumer": consumer, "j": j, "up": up, "local": local, "product": up * local}
            )
    return out


def entry_text(view, node, index):
    """Where an entry sits, in words: head, position (with its character), column."""
    if not index:
        return "the single number"
    parts = []
    if node.heads:
        parts.append(f"head {index[0]}")
        index = index[1:]
    if node.kind == "param":
        return " · ".join([*parts, f"row {index[0]}", f"col {index[1]}"])
    if node.name in ("attention scores", "masked scores", "attention weights"):
        query, key = index[-2:]
        return " · ".join([*parts, f"query {query}", f"key {key} “{char(view, key)}”"])
    if len(index) == 1:
        return " · ".join([*parts, f"entry {index[0]}"])
    return " · ".join([*parts, f"position {index[0]} “{char(view, index[0])}”", f"col {index[1]}"])


def char(view, t):
    return view.labels[view.tokens[t]] if 0 <= t < len(view.tokens) else "?"


def flat_index(node, index):
    return int(np.ravel_multi_index(index, np.shape(node.value))) if index else 0


def chain_rule(view, node_id, flat):
    """The fragment's context: one gradient entry of node `node_id` (flat index `flat`), the
    terms that made it (largest first, the rest summed) and links one level further down."""
    node = view.trace.nodes[node_id]
    shape = np.shape(node.value)
    index = tuple(int(k) for k in np.unravel_index(flat, shape)) if shape else ()
    value = float(np.asarray(node.grad, np.float64)[index])
    made = terms(view, node, index)
    made.sort(key=lambda t: -abs(t["product"]))
    shown, rest = made[:SHOWN_TERMS], made[SHOWN_TERMS:]
    rows = [
        {
            "consumer": t["consumer"].label,
            "consumer_op": t["consumer"].op,
            "where": entry_text(view, t["consumer"], t["j"]),
            "up": fmt(t["up"]),
            "local": fmt(t["local"]),
            "product": fmt(t["product"]),
            "down": (t["consumer"].id, flat_index(t["consumer"], t["j"])),
        }
        for t in shown
    ]
    return {
        "chain": {
            "node_id": node.id,
            "label": node.label,
            "where": entry_text(view, node, index),
            "value": fmt(value),
            "is_root": node.id == view.order[0],
            "rows": rows,
            "rest_count": len(rest),
            "rest_zero": sum(1 for t in rest if t["product"] == 0),
            "rest_sum": fmt(sum(t["product"] for t in rest)),
            "sum": fmt(sum(t["product"] for t in made)),
            "consumers": sorted({t["consumer"].label for t in made}),
        },
        "terms": made,
    }
