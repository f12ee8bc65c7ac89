"""The op view `/runs/<id>/steps/<step>/tokens/<pos>/ops/`: one token's computation graph,
and backpropagation stepped op by op.

The graph is the engine's op-level trace (engine.trace_token) of the snapshot step's
document with the parameters stored for that step. `?op=k` is the number of backward steps
done: the ops backward_order[:k] have passed their gradient on, backward_order[k - 1] is
the current op. The first load renders the whole page; Step, Back, Reset, Play and a click
on a node hx-get the same URL and get the side panel plus out-of-band controls, state and
weights panel back (templates/runs/opview.html). Scalars and weight heatmaps load on demand.

Attention ops are batched over heads (axis 0). For them the side panel shows one head,
`&head=h` (default 0, kept by Step and Back): its numbers, worked values, gradient heatmaps
and norms. Like `op`, a head out of range is clamped; the panel says so.

Heatmaps travel as base64 int8 (value / max|value| × 127, −128 for a masked cell) pooled to
a few hundred cells, keeping the token's own row (the last one) unpooled; exact numbers are
in the side panel and the scalar expansion.
"""

import base64

import numpy as np
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_GET

from classrooms import funnel
from engine import GPT, GPTConfig, trace_token
from engine.model import param_group
from engine.ops import RMS_EPS
from runs.models import Kind, RunEvent
from runs.oplayout import HEAD_PAD, HEAT_TOP, NUMBER_W, layout
from runs.page import query_int, token_labels, visible_run
from runs.permissions import login_required_unless_showcase

NODE_CELLS = 512  # per heatmap in the graph
PANEL_CELLS = 4096  # per heatmap in the side panel
SHOWN_NUMBERS = 8  # entries of a vector in "the numbers it used" before "… n more"

LEAF_RULES = {
    "param": "a parameter: its gradient is the sum of everything that reached it",
    "input": "an input: integer ids have no gradient",
}


# --- views ---------------------------------------------------------------------------------


@login_required_unless_showcase
@require_GET
def opview(request, run_id, step, pos):
    """The page; an htmx request (Step, Back, Reset, Play, a node click) gets the side panel
    with the controls, the state and the weights panel out of band (and empties the scalar
    and weight panels, which belonged to the previous step)."""
    run = visible_run(request, run_id)
    view = OpView(run, step, pos, query_int(request, "op"), request.GET.get("head"))
    context = view.context()
    if request.htmx and not request.htmx.history_restore_request:
        html = render_to_string("runs/opview.html#side", context, request)
        oob = {**context, "oob": True}
        for name in ("controls", "state", "weights", "scalars_slot", "weight_slot"):
            html += render_to_string(f"runs/opview.html#{name}", oob, request)
        return HttpResponse(html)
    context.update(view.graph_context())
    funnel.record(request.user, funnel.OPENED_OP_VIEW)
    return render(request, "runs/opview.html", context)


@login_required_unless_showcase
@require_GET
def node_scalars(request, run_id, step, pos, node_id):
    """One node expanded to exact numbers: the token's row (of head `?head=`), its gradient
    when backward (`?op=`) has reached it, and for attention the dot products per key."""
    run = visible_run(request, run_id)
    view = OpView(run, step, pos, query_int(request, "op"))
    if not 0 <= node_id < len(view.trace.nodes):
        raise Http404("no such node")
    context = {**view.base_context(), **view.scalars_context(node_id, query_int(request, "head"))}
    return render(request, "runs/opview.html#scalars", context)


@login_required_unless_showcase
@require_GET
def weight_grad(request, run_id, step, pos, name):
    """The gradient heatmap of one weight matrix: this token's and the whole step's."""
    run = visible_run(request, run_id)
    view = OpView(run, step, pos, query_int(request, "op"))
    node = next((n for n in view.trace.tape.params() if n.name == name), None)
    if node is None:
        raise Http404("no such weight")
    step_grad = view.step_grads()[name]
    context = {
        **view.base_context(),
        "weight": {
            "name": name,
            "shape": shape_text(node.value),
            "token_norm": norm(node.grad),
            "step_norm": norm(step_grad),
            "token_map": heatmap(node.grad, token_row=False, cells=PANEL_CELLS),
            "step_map": heatmap(step_grad, token_row=False, cells=PANEL_CELLS),
        },
    }
    return render(request, "runs/opview.html#weight", context)


# --- the trace of a snapshot step ------------------------------------------------------------


def model_at(run, params):
    """A GPT holding `params` (shapes give everything but the number of heads)."""
    n_layer = sum(1 for name in params if name.endswith(".attn_wq"))
    vocab_size, n_embd = params["wte"].shape
    config = GPTConfig(
        vocab_size=vocab_size,
        n_embd=n_embd,
        n_head=int(run.config.get("n_head", 1)),
        n_layer=n_layer,
        block_size=params["wpe"].shape[0],
    )
    model = GPT(config)
    for name, value in params.items():
        model.params[name][...] = value
    return model


def snapshot_parts(run, step):
    """The keys of the stored snapshot (run.snapshot(step)) that the op view reads, without
    decoding its attention maps (most of its JSON); None when there is no snapshot."""
    keys = ("tokens", "targets", "param_update_norms")
    row = (
        RunEvent.objects.filter(run=run, kind=Kind.SNAPSHOT, step=step)
        .values_list(*(f"data__{key}" for key in keys))
        .first()
    )
    return None if row is None else dict(zip(keys, row, strict=True))


class OpView:
    """A run's snapshot step traced at one position, with `op` backward steps done."""

    def __init__(self, run, step, pos, op=None, head=None):
        self.run, self.step, self.pos = run, step, pos
        self.snapshot = snapshot_parts(run, step)
        if self.snapshot is None:
            raise Http404("no snapshot at this step")
        if not 0 <= pos < len(self.snapshot["tokens"]):
            raise Http404("no such position")
        params = run.params_at(step)
        if params is None:
            raise Http404("no parameters stored for this step")
        self.model = model_at(run, params)
        self.tokens = [*self.snapshot["tokens"], self.snapshot["targets"][-1]]
        self.trace = trace_token(self.model, self.tokens, pos)
        self.order = self.trace.backward_order
        self.op = min(max(op or 0, 0), len(self.order))
        self.done = set(self.order[: self.op])
        self.current = self.trace.nodes[self.order[self.op - 1]] if self.op else None
        self.head, self.head_note = parse_head(head, self.trace.n_head)
        self.labels = token_labels(run)
        self.url = reverse("runs:opview", args=[run.id, step, pos])
        self._step_grads = None

    def op_url(self, k, head=None):
        """The page at `k` backward steps, keeping the chosen head (head 0 is the default)."""
        head = self.head if head is None else head
        return f"{self.url}?op={k}&head={head}" if head else f"{self.url}?op={k}"

    def step_grads(self):
        """The whole step's gradients: the mean loss over every position of the document."""
        if self._step_grads is None:
            self._step_grads = self.model.loss_and_grads(self.tokens)[1]
        return self._step_grads

    # --- contexts ---

    def base_context(self):
        token, target = self.tokens[self.pos], self.tokens[self.pos + 1]
        total = len(self.order)
        return {
            "run": self.run,
            "step": self.step,
            "pos": self.pos,
            "op": self.op,
            "head": self.head,
            "total": total,
            "loss": self.trace.loss,
            "token_text": self.labels[token],
            "target_text": self.labels[target],
            "context_text": "".join(self.labels[t] for t in self.tokens[: self.pos + 1]),
            # the same, with BOS marked as on the run page's token strip
            "context_pieces": [
                {"text": self.labels[t], "is_bos": t == len(self.labels) - 1}
                for t in self.tokens[: self.pos + 1]
            ],
            "url": self.url,
            "run_url": f"{reverse('runs:detail', args=[self.run.id])}?step={self.step}"
            f"&pos={self.pos}",
            "urls": {
                "reset": self.op_url(0, head=0),
                "back": self.op_url(max(self.op - 1, 0)),
                "step": self.op_url(min(self.op + 1, total)),
            },
            "current_id": self.current.id if self.current else "",
            "done_ids": " ".join(str(i) for i in self.order[: self.op]),
            "order_ids": " ".join(str(i) for i in self.order),
            "scalars_url": f"{self.url}nodes/",
            "weights_url": f"{self.url}weights/",
        }

    def context(self):
        return {
            **self.base_context(),
            "current": self.current_context(),
            **self.weights_context(),
        }

    def graph_context(self):
        trace = self.trace
        plan = layout(trace.to_dict(values=False)["nodes"], trace.n_head)
        position = {i: bi for bi, i in enumerate(self.order)}
        nodes = []
        for node in trace.nodes:
            bi = position.get(node.id)
            grad = None if node.grad is None else node_heatmap(node, node.grad)
            node_view = {
                "node": node,
                "box": plan["nodes"][node.id],
                "bi": bi,
                "state": self.state_of(node.id),
                "jump": None if bi is None else self.op_url(bi + 1),
                "ids_text": self.ids_text(node),
                "values": None if node.kind == "input" else node_heatmap(node, node.value),
                "grad": grad,
                "grad_norm": None if grad is None else norm(node.grad),
            }
            nodes.append({"id": node.id, "bi": bi, "svg": node_svg(node_view, self.pos)})
        plan["edges_svg"] = format_html_join(
            "",
            '<path class="edge" data-src="{}" data-dst="{}" d="{}"/>',
            ((e["src"], e["dst"], e["d"]) for e in plan["edges"]),
        )
        return {"plan": plan, "nodes": nodes}

    def state_of(self, node_id):
        if self.current is not None and node_id == self.current.id:
            return "current"
        if node_id in self.done:
            return "done"
        return "pending" if self.trace.nodes[node_id].grad is not None else "none"

    def ids_text(self, node):
        """What an integer input holds, as characters (the last few)."""
        if node.kind != "input":
            return ""
        ids = np.asarray(node.value).tolist()
        if node.name == "positions":
            return f"0 … {ids[-1]}"
        return "".join(self.labels[i] for i in ids[-14:])

    def current_context(self):
        """The side panel: the current op's rule, upstream gradient, the gradient it passes
        to each input, and the numbers of the token's row it used."""
        node = self.current
        if node is None:
            return None
        passed = node.backward(node.grad) if node.backward else [None] * len(node.inputs)
        head = self.head if is_head_op(node) else None
        picked = head if self.trace.n_head > 1 else None  # one head: nothing to pick
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
            "upstream_norm": norm(node.grad),
            "upstream_map": upstream["map"],
            "upstream_head_norm": upstream["head_norm"],
            "upstream_what": upstream["what"],
            "to_inputs": to_inputs,
            "numbers": self.numbers_used(node, passed, head),
            "facts": self.op_facts(node, head),
            "heads": self.head_choices() if picked is not None else None,
            "is_root": node.id == self.order[0],
        }

    def head_choices(self):
        """The side panel's head picker: one button per head, each the page at this op."""
        return {
            "note": self.head_note,
            "choices": [
                {"head": h, "url": self.op_url(self.op, head=h), "on": h == self.head}
                for h in range(self.trace.n_head)
            ],
            "scalars_query": f"&head={self.head}",
        }

    def numbers_used(self, node, passed, head):
        """The token's row of every tensor the rule reads: inputs, output, dy and each dx;
        for an op over heads the row of head `head` (and for split / merge heads the columns
        of the (T, C) side that belong to it)."""
        rows = []
        cols = head_columns(node, head)

        def add(name, array, owner):
            row = token_row(owner, array, head or 0, self.tokens[self.pos])
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

    def op_facts(self, node, head):
        """A few scalars that make the rule concrete for this op at the token's row (of
        head `head` for an op over heads)."""
        t, facts = self.pos, []
        y = np.asarray(node.value, np.float64)
        dy = np.asarray(node.grad, np.float64)
        cols = head_columns(node, head)
        if node.op == "softmax":
            s = float((y[head, t] * dy[head, t]).sum())
            facts.append((f"head {head}: Σⱼ y·dy", fmt(s)))
            facts.append((f"head {head}: largest weight", self.strongest_key(y[head, t])))
        elif node.op == "weighted sum":
            weights = np.asarray(node.inputs[0].value, np.float64)[head, t]
            facts.append((f"head {head}: largest weight", self.strongest_key(weights)))
        elif cols is not None:  # split heads / merge heads
            facts.append((f"head {head} = columns", f"{cols.start} … {cols.stop - 1} of the row"))
        elif node.op == "rmsnorm":
            x = np.asarray(node.inputs[0].value, np.float64)[t]
            facts.append(("rms of the row", fmt(float(np.sqrt((x * x).mean() + RMS_EPS)))))
            facts.append(("mean(y ⊙ dy)", fmt(float((y[t] * dy[t]).mean()))))
        elif node.op == "cross-entropy":
            probs = node.saved["probs"][t]
            target = self.tokens[t + 1]
            facts += [
                ("target", f"“{self.labels[target]}” (id {target})"),
                ("p(target)", fmt(float(probs[target]))),
                ("loss = −ln p(target)", fmt(self.trace.loss)),
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

    def strongest_key(self, weights):
        j = int(np.argmax(weights[: self.pos + 1]))
        return f"key {j} “{self.labels[self.tokens[j]]}”: {fmt(float(weights[j]))}"

    def weights_context(self):
        """Once backward reaches a parameter: every weight matrix reached, with this token's
        gradient norm, the whole step's (recomputed from the stored parameters) and the
        Adam update of the step (per matrix when stored, else per group from the scalars)."""
        reached = [n for n in self.trace.tape.params() if n.id in self.done]
        if not reached:
            return {"weights": None}
        scalars = (
            RunEvent.objects.filter(run=self.run, kind=Kind.STEP, step=self.step)
            .values_list("data", flat=True)
            .first()
        ) or {}
        updates = self.update_norms()
        step_grads = self.step_grads()
        group_grads = scalars.get("grad_norms") or {}
        group_updates = scalars.get("update_norms") or {}
        rows = []
        for node in reached:
            group = param_group(node.name)
            rows.append(
                {
                    "name": node.name,
                    "shape": shape_text(node.value),
                    "token_norm": norm(node.grad),
                    "step_norm": norm(step_grads[node.name]),
                    "alignment": cosine(node.grad, step_grads[node.name]),
                    "update_norm": updates.get(node.name),
                    "group": group,
                    "group_grad_norm": group_grads.get(group),
                    "group_update_norm": group_updates.get(group),
                }
            )
        return {
            "weights": rows,
            "weights_lr": scalars.get("lr"),
            "weights_positions": len(self.tokens) - 1,
            "updates_per_matrix": bool(updates),
        }

    def update_norms(self):
        """Per-matrix norm of the Adam update this step applied: stored with the snapshot,
        or the difference to the next step's stored parameters; {} when neither exists."""
        stored = self.snapshot.get("param_update_norms")
        if stored:
            return stored
        after = self.run.params_at(self.step + 1)
        if after is None:
            return {}
        return {name: norm(after[name] - p) for name, p in self.model.params.items()}

    def scalars_context(self, node_id, head):
        node = self.trace.nodes[node_id]
        n_head = np.shape(node.value)[0] if node.heads else 0
        head = min(max(head or 0, 0), n_head - 1) if node.heads else None
        t = self.pos
        grad_shown = node.id in self.done and node.grad is not None
        value_row = token_row(node, node.value, head or 0, self.tokens[t])
        grad_row = token_row(node, node.grad, head or 0, self.tokens[t]) if grad_shown else None
        entries = []
        if value_row is not None:
            for j, v in enumerate(value_row):
                g = None if grad_row is None else fmt(float(grad_row[j]))
                entries.append({"index": j, "value": fmt(float(v)), "grad": g})
        keys = self.attention_keys(node, head) if node.heads else None
        return {
            "node": {
                "id": node.id,
                "label": node.label,
                "op": node.op,
                "shape": shape_text(node.value),
                "heads": list(range(n_head)),
                "head": head,
                "grad_shown": grad_shown,
                "row_name": row_name(node, self.pos, self.tokens, self.labels),
            },
            "entries": entries,
            "keys": keys,
        }

    def attention_keys(self, node, head):
        """For the attention ops of a head: per key j ≤ t, the dot product q·k that made the
        score, the score (÷ √D) and the weight; plus the products of the strongest key."""
        layer_nodes = [n for n in self.trace.nodes if n.layer == node.layer and n.heads]
        named = {n.name: n for n in layer_nodes}
        if not {"query heads", "key heads", "attention weights"} <= named.keys():
            return None
        if node.name not in ("attention scores", "masked scores", "attention weights"):
            return None
        t = self.pos
        q = np.asarray(named["query heads"].value[head, t], np.float64)  # (D,)
        k = np.asarray(named["key heads"].value[head, : t + 1], np.float64)  # (t+1, D)
        weights = np.asarray(named["attention weights"].value[head, t, : t + 1], np.float64)
        dots = k @ q
        scale = np.sqrt(q.shape[0])
        best = int(np.argmax(weights))
        rows = [
            {
                "j": j,
                "char": self.labels[self.tokens[j]],
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


# --- heads ----------------------------------------------------------------------------------


def parse_head(raw, n_head):
    """`?head=` as (head, note): 0 when absent; clamped to 0 … n_head − 1, like `op`, with
    a note saying so when it is not a head of this model."""
    if raw is None or raw == "":
        return 0, None
    try:
        head = int(raw)
    except ValueError:
        shown = Truncator(raw).chars(12)
        return 0, f"“{shown}” is not a head number: showing head 0."
    if 0 <= head < n_head:
        return head, None
    clamped = min(max(head, 0), n_head - 1)
    return clamped, (
        f"There is no head {head}: this model has heads 0 … {n_head - 1}. Showing head {clamped}."
    )


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


# --- numbers and heatmaps ---------------------------------------------------------------------


def cosine(a, b):
    """cos of the angle between two gradients: 1 = this token pushed the way the step did."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denom) if denom else 0.0


def norm(a):
    a = np.asarray(a, np.float64)
    return float(np.sqrt(np.sum(a * a, where=np.isfinite(a))))


def fmt(x):
    return f"{x:.4g}"


def px(v):
    return f"{v:g}"


def canvas_html(hm, css, what, pos):
    return (
        f'<canvas class="{css}" data-hm="{hm["data"]}" data-shape="{hm["shape"]}" '
        f'data-src="{hm["src"]}" data-scale="{hm["scale"]}" data-last="{hm["keep_last"]}" '
        f'data-what="{what}" data-pos="{pos}"></canvas>'
    )


def node_svg(v, pos):
    """One node of the graph (safe HTML): its box, label, op and shape, the value heatmap,
    and the gradient heatmap and norm (shown by CSS once backward has passed the node).
    Plain f-strings: only the names are text (escaped here), the rest are numbers."""
    node, box = v["node"], v["box"]
    x, y, w = box["x"], box["y"], box["w"]
    label, op, shape = escape(node.label), escape(node.op), shape_text(node.value)
    heat = f'x="{px(x + HEAD_PAD)}" width="{px(w - 2 * HEAD_PAD - NUMBER_W)}" height="15"'
    heat_y, text_x = y + HEAT_TOP, px(x + 8)
    attrs = (
        f'id="opnode-{node.id}" class="opnode st-{v["state"]} kind-{node.kind} '
        f'part-{node.part}" data-node="{node.id}" data-op-name="{op}" data-label="{label}"'
    )
    if v["bi"] is not None:
        attrs += (
            f' data-bi="{v["bi"]}" data-grad-norm="{v["grad_norm"]:.6g}" hx-get="{v["jump"]}"'
            ' hx-target="#op-side" hx-swap="outerHTML" hx-replace-url="true" tabindex="0"'
            f' role="button" aria-label="{label}: jump here in the backward pass"'
        )
    parts = [
        f"<g {attrs}><title>{label} · {op} · {shape}</title>",
        f'<rect class="box" x="{px(x)}" y="{px(y)}" width="{px(w)}" height="{px(box["h"])}"'
        ' rx="7"/>',
        f'<text class="lbl" x="{text_x}" y="{px(y)}" dy="14">'
        f"{escape(Truncator(node.label).chars(30))}</text>",
        f'<text class="sub" x="{text_x}" y="{px(y)}" dy="25">{op} · {shape}</text>',
    ]
    if v["values"]:
        canvas = canvas_html(v["values"], "hm", "value", pos)
        parts.append(f'<foreignObject {heat} y="{px(heat_y)}">{canvas}</foreignObject>')
    else:
        parts.append(
            f'<text class="ids mono" x="{text_x}" y="{px(heat_y)}" dy="12">'
            f"{escape(v['ids_text'])}</text>"
        )
    if v["grad"]:
        canvas = canvas_html(v["grad"], "hm grad", "gradient", pos)
        parts.append(
            f'<foreignObject class="gradmap" {heat} y="{px(heat_y + 18)}">{canvas}'
            f'</foreignObject><text class="gn" x="{px(x + w - 8)}" y="{px(heat_y + 30)}">'
            f'<tspan class="gn-sym">∇ </tspan>{v["grad_norm"]:.3g}</text>'
        )
    parts.append("</g>")
    return mark_safe("".join(parts))


def shape_text(a):
    shape = np.shape(a)
    return "×".join(str(n) for n in shape) if shape else "scalar"


def token_row(node, array, head, token_id):
    """The part of `array` (a node's value or gradient) that belongs to the token: the last
    row of a (T, ·) tensor, head `head`'s last row of an (H, T, ·) one, the looked-up row
    of wte / wpe; None for a weight matrix."""
    if array is None:
        return None
    a = np.asarray(array, np.float64)
    if a.ndim == 0:
        return a.reshape(1)
    if node.kind == "param":
        if node.name == "wte":
            return a[token_id]
        if node.name == "wpe":
            return None  # the row is the position; shown by scalars via row_name
        return None
    if node.heads:
        return a[head, -1]
    return a[-1] if a.ndim == 2 else a


def row_name(node, pos, tokens, labels):
    if node.kind == "param":
        if node.name == "wte":
            return f"row {tokens[pos]} (“{labels[tokens[pos]]}”)"
        return "(a weight matrix: click it in the weights panel for its heatmap)"
    return f"position {pos} (“{labels[tokens[pos]]}”)"


def vector_numbers(name, row):
    shown = [fmt(float(v)) for v in row[:SHOWN_NUMBERS]]
    return {"name": name, "values": shown, "more": max(0, len(row) - SHOWN_NUMBERS)}


def node_heatmap(node, array, cells=NODE_CELLS):
    return heatmap(array, token_row=node.kind != "param", cells=cells)


def bin_edges(n, bins, keep_last):
    """Start of each bin over n rows; with keep_last the last row is a bin of its own."""
    if keep_last and bins < n:
        return [*((np.arange(bins - 1) * (n - 1)) // (bins - 1)), n - 1]
    return list((np.arange(bins) * n) // bins)


def heatmap(array, *, token_row=True, cells=NODE_CELLS):
    """A compact heatmap: {"data": base64 int8, "shape": "H R C" pooled, "src": "H R C"
    original, "scale", "keep_last"}. Each cell is the entry of largest magnitude in its bin
    (so a sign and a peak survive pooling); a cell that is all −inf (masked) is −128."""
    a = np.asarray(array, np.float64)
    a = a.reshape((1, 1, 1, *a.shape)[-3:]) if a.ndim < 3 else a
    if a.ndim != 3:
        raise ValueError(f"heatmap of a {a.ndim}-d array")
    h, r, c = a.shape
    per_head = max(1, cells // h)
    cols = min(c, 32 if h > 1 else 64, per_head)
    rows = min(r, max(1, per_head // cols))
    keep_last = token_row and r > 1
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
        "src": f"{h} {r} {c}",
        "scale": f"{scale:.4g}",
        "keep_last": int(keep_last),
    }


def pool(a, starts, axis):
    """The entry of largest magnitude of each bin (NaN, a masked entry, only if all are)."""
    with np.errstate(invalid="ignore"):
        high, low = np.fmax.reduceat(a, starts, axis=axis), np.fmin.reduceat(a, starts, axis=axis)
        return np.where(np.isnan(high) | (high >= -low), high, low)
