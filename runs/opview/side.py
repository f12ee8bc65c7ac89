"""The side panel of the op view: the current op's rule, the gradient it received and the
gradient it passes to each input, the numbers of the token's row it used, and a few facts
that make the rule concrete. For an op over heads it shows the chosen head."""

import numpy as np

from engine.ops import RMS_EPS
from runs.opview.heatmaps import PANEL_CELLS, heatmap, node_heatmap
from runs.opview.numbers import fmt, norm, shape_text

SHOWN_NUMBERS = 8  # entries of a vector in "the numbers it used" before "… n more"

LEAF_RULES = {
    "param": "a parameter: its gradient is the sum of everything that reached it",
    "input": "an input: integer ids have no gradient",
}


# What each backward step does, in one plain sentence (the side panel's first line).
OP_WORDS = {
    "cross-entropy": "The loss measured how surprised the model was by the right next character. "
    "Its gradient says: raise the right character's score, lower every other one in proportion "
    "to its probability.",
    "matmul": "This multiplied the row by a weight matrix. Backward sends the gradient two ways: "
    "to the input (through the weights) and to the weights (through the input).",
    "add": "This added two tensors. A sum passes its gradient unchanged to both inputs.",
    "rmsnorm": "This scaled the row to a standard size. Backward undoes the scaling and removes "
    "the part of the gradient that would only change the size.",
    "relu": "This kept positive numbers and zeroed the rest. The gradient passes only where the "
    "number was positive.",
    "softmax": "This turned scores into weights that add up to 1. Raising one weight lowers the "
    "others, so each score's gradient depends on all of them.",
    "causal mask": "This hid the future: a token may only look at itself and earlier tokens. "
    "Hidden scores get no gradient.",
    "attention scores": "Each query was compared with each key (a dot product). The gradient "
    "flows to the query through the keys and to the keys through the query.",
    "weighted sum": "Each head mixed the value rows by its attention weights. The gradient goes "
    "to the weights (which value mattered) and to the values (how to change them).",
    "split heads": "This cut the row into one slice per head. Backward glues the slices' "
    "gradients back together.",
    "merge heads": "This glued the heads' outputs side by side. Backward cuts the gradient back "
    "into one slice per head.",
    "embedding lookup": "This picked one row of a table: the token's (or the position's). Only "
    "that row gets a gradient.",
    "param": "A weight: every gradient that reached it is added up here. The optimiser will "
    "nudge it against this sum.",
    "input": "An input of integer ids: they have no gradient.",
}

FORMULA_NOTES = {
    "cross-entropy": "P is the number of positions whose losses are averaged: here P = 1, this "
    "token alone (the training step averages over every position of the line).",
    "attention scores": "D is the size of one head (head_dim); dividing by √D keeps the "
    "scores from growing with it.",
    "rmsnorm": "rms is the root-mean-square of the token's row before it is scaled to 1.",
}


def current_op(view):
    """The side panel: the current op's rule, upstream gradient, the gradient it passes
    to each input, and the numbers of the token's row it used."""
    node = view.current
    if node is None:
        return None
    passed = node.backward(node.grad) if node.backward else [None] * len(node.inputs)
    head = view.head if is_head_op(node) else None
    picked = head if view.trace.n_head > 1 else None  # one head: nothing to pick
    to_inputs = [
        {
            "id": inp.id,
            "label": inp.label,
            "norm": norm(g),
            **head_part(inp, g, picked, f"gradient to {inp.label}"),
            "shape": shape_text(g),
        }
        for inp, g in zip(node.inputs, passed, strict=True)
        if g is not None
    ]
    upstream = head_part(node, node.grad, picked, "dy")
    return {
        "id": node.id,
        "label": node.label,
        "op": node.op,
        "kind": node.kind,
        "shape": shape_text(node.value),
        "formula": node.formula or LEAF_RULES.get(node.kind, ""),
        "formula_note": FORMULA_NOTES.get(node.op, ""),
        "words": OP_WORDS.get(node.op, ""),
        "upstream_norm": norm(node.grad),
        "upstream_map": upstream["map"],
        "upstream_head_norm": upstream["head_norm"],
        "upstream_what": upstream["what"],
        "to_inputs": to_inputs,
        "numbers": numbers_used(view, node, passed, head),
        "facts": op_facts(view, node, head),
        "heads": head_choices(view) if picked is not None else None,
        "is_root": node.id == view.order[0],
    }


def head_choices(view):
    """The side panel's head picker: one button per head, each the page at this op."""
    return {
        "note": view.head_note,
        "choices": [
            {"head": h, "url": view.op_url(view.op, head=h), "on": h == view.head}
            for h in range(view.trace.n_head)
        ],
        "scalars_query": f"&head={view.head}",
    }


def numbers_used(view, node, passed, head):
    """The token's row of every tensor the rule reads: inputs, output, dy and each dx;
    for an op over heads the row of head `head` (and for split / merge heads the columns
    of the (T, C) side that belong to it)."""
    rows = []
    cols = head_columns(node, head)

    def add(name, array, owner):
        row = token_row(owner, array, head or 0, view.tokens[view.pos], view.pos)
        if row is None:
            return
        if cols is not None and not owner.heads:
            row = row[cols]
            name = f"{name} [cols {cols.start}–{cols.stop - 1}]"
        rows.append(vector_numbers(name, row))

    for inp in node.inputs:
        if inp.kind != "input":
            add(f"x: {inp.label}", inp.value, inp)
    if node.kind == "op":
        add(f"y: {node.label}", node.value, node)
    add("dy (upstream)", node.grad, node)
    for inp, g in zip(node.inputs, passed, strict=True):
        if g is not None:
            add(f"dx → {inp.label}", g, inp)
    return {"rows": rows, "head": head}


def op_facts(view, node, head):
    """A few scalars that make the rule concrete for this op at the token's row (of
    head `head` for an op over heads)."""
    t, facts = view.pos, []
    y = np.asarray(node.value, np.float64)
    dy = np.asarray(node.grad, np.float64)
    cols = head_columns(node, head)
    if node.op == "softmax":
        s = float((y[head, t] * dy[head, t]).sum())
        facts.append((f"head {head}: Σⱼ y·dy", fmt(s)))
        facts.append((f"head {head}: largest weight", strongest_key(view, y[head, t])))
    elif node.op == "weighted sum":
        weights = np.asarray(node.inputs[0].value, np.float64)[head, t]
        facts.append((f"head {head}: largest weight", strongest_key(view, weights)))
    elif cols is not None:  # split heads / merge heads
        facts.append((f"head {head} = columns", f"{cols.start} … {cols.stop - 1} of the row"))
    elif node.op == "rmsnorm":
        x = np.asarray(node.inputs[0].value, np.float64)[t]
        facts.append(("rms of the row", fmt(float(np.sqrt((x * x).mean() + RMS_EPS)))))
        facts.append(("mean(y ⊙ dy)", fmt(float((y[t] * dy[t]).mean()))))
    elif node.op == "cross-entropy":
        probs = node.saved["probs"][t]
        target = view.tokens[t + 1]
        facts += [
            ("target", f"“{view.labels[target]}” (id {target})"),
            ("p(target)", fmt(float(probs[target]))),
            ("loss = −ln p(target)", fmt(view.trace.loss)),
            ("dlogits[target] = p − 1", fmt(float(probs[target]) - 1)),
        ]
    elif node.op == "attention scores":
        facts.append(("√D", fmt(float(np.sqrt(node.inputs[0].value.shape[-1])))))
        facts.append((f"head {head}: q·k / √D with its own key", fmt(float(y[head, t, t]))))
    elif node.op == "causal mask":
        facts.append(("keys this token may look at", f"0 … {t} ({t + 1})"))
    elif node.op == "relu":
        facts.append(("active units in the row", f"{int((y[t] > 0).sum())} of {y.shape[-1]}"))
    elif node.op == "embedding lookup":
        ids = node.inputs[1].value
        facts.append(("row looked up", f"{int(ids[t])}"))
    elif node.kind == "param":
        facts.append(("‖∇‖ for this token", fmt(norm(node.grad))))
    return facts


def strongest_key(view, weights):
    j = int(np.argmax(weights[: view.pos + 1]))
    return f"key {j} “{view.labels[view.tokens[j]]}”: {fmt(float(weights[j]))}"


# --- heads and rows ---------------------------------------------------------------------------


def is_head_op(node):
    """An op batched over heads (axis 0), or one that reads such a tensor (merge heads)."""
    return node.kind == "op" and (node.heads or any(inp.heads for inp in node.inputs))


def head_columns(node, head):
    """For split / merge heads: the columns of the (T, C) side that are head `head`."""
    if head is None or node.op not in ("split heads", "merge heads"):
        return None
    per_head = np.shape(node.value if node.heads else node.inputs[0].value)[-1]
    return slice(head * per_head, (head + 1) * per_head)


def head_part(owner, array, head, what):
    """A side-panel heatmap of `array` (a gradient of `owner`): of head `head` alone, with
    that head's norm, when the array is over heads and a head is chosen; else all of it."""
    if head is not None and owner.heads:
        part = np.asarray(array)[head : head + 1]
        return {
            "map": heatmap(part, cells=PANEL_CELLS),
            "head_norm": norm(part),
            "what": f"{what} · head {head}",
        }
    return {"map": node_heatmap(owner, array, PANEL_CELLS), "head_norm": None, "what": what}


def token_index(node, head, token_id, pos):
    """The index of the token's row in a node's tensor: the last row of a (T, ·) tensor,
    head `head`'s last row of an (H, T, ·) one, the looked-up row of wte / wpe, () for a
    scalar, all of a 1-d one; None for any other weight matrix."""
    shape = np.shape(node.value)
    if not shape:
        return ()
    if node.kind == "param":
        return {"wte": (token_id,), "wpe": (pos,)}.get(node.name)
    if node.heads:
        return (head, shape[1] - 1)
    return (shape[0] - 1,) if len(shape) == 2 else (slice(None),)


def token_row(node, array, head, token_id, pos):
    """The part of `array` (a node's value or gradient) that belongs to the token (see
    token_index), as a 1-d float64 array; None for a weight matrix or no array."""
    index = None if array is None else token_index(node, head, token_id, pos)
    if index is None:
        return None
    return np.asarray(array, np.float64)[index].reshape(-1)


def vector_numbers(name, row):
    shown = [fmt(float(v)) for v in row[:SHOWN_NUMBERS]]
    return {"name": name, "values": shown, "more": max(0, len(row) - SHOWN_NUMBERS)}
