"""The op view's graph drawn on the server: every node's SVG (box, label, op and shape, the
value heatmap, the gradient heatmap and norm) and the edges, placed by layout.py."""

import numpy as np
from django.utils.html import escape, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from runs.opview.heatmaps import node_heatmap
from runs.opview.layout import HEAD_PAD, HEAT_TOP, NUMBER_W, layout
from runs.opview.numbers import norm, shape_text


def graph(view):
    """The graph's template context: {"plan": layout with "edges_svg", "nodes": [svg]}."""
    trace = view.trace
    plan = layout(trace.to_dict(values=False)["nodes"], trace.n_head)
    position = {i: bi for bi, i in enumerate(view.order)}
    nodes = []
    for node in trace.nodes:
        bi = position.get(node.id)
        grad = None if node.grad is None else node_heatmap(node, node.grad)
        node_view = {
            "node": node,
            "box": plan["nodes"][node.id],
            "bi": bi,
            "state": view.state_of(node.id),
            "jump": None if bi is None else view.op_url(bi + 1),
            "ids_text": ids_text(node, view.labels),
            "values": None if node.kind == "input" else node_heatmap(node, node.value),
            "grad": grad,
            "grad_norm": None if grad is None else norm(node.grad),
        }
        nodes.append({"id": node.id, "bi": bi, "svg": node_svg(node_view, view.pos)})
    plan["edges_svg"] = format_html_join(
        "",
        '<path class="edge" data-src="{}" data-dst="{}" d="{}"/>',
        ((e["src"], e["dst"], e["d"]) for e in plan["edges"]),
    )
    return {"plan": plan, "nodes": nodes}


def ids_text(node, labels):
    """What an integer input holds, as characters (the last few)."""
    if node.kind != "input":
        return ""
    ids = np.asarray(node.value).tolist()
    if node.name == "positions":
        return f"0 … {ids[-1]}"
    return "".join(labels[i] for i in ids[-14:])


def short(scale):
    """A colour scale in two significant digits, to fit beside its heatmap."""
    return f"{float(scale):.2g}"


def px(v):
    return f"{v:g}"


def canvas_html(hm, css, what, pos):
    return (
        f'<canvas class="{css}" data-hm="{hm["data"]}" data-shape="{hm["shape"]}" '
        f'data-src="{hm["src"]}" data-scale="{hm["scale"]}" data-last="{hm["keep_last"]}" '
        f'data-what="{what}" data-pos="{pos}" data-only="{hm["only_token"]}"></canvas>'
    )


def node_svg(v, pos):
    """One node of the graph (safe HTML): its box, label, op and shape, the value heatmap,
    and the gradient heatmap (shown by CSS once backward has passed the node), each with
    its own colour scale stated beside it: the |number| that gets the full colour.
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
    scales = ""
    if v["values"]:
        scales += f" · colours: values up to ±{v['values']['scale']}"
    if v["grad"]:
        scales += f", gradient up to ±{v['grad']['scale']} (‖∇‖ = {v['grad_norm']:.3g})"
    parts = [
        f"<g {attrs}><title>{label} · {op} · {shape}{scales}</title>",
        f'<rect class="box" x="{px(x)}" y="{px(y)}" width="{px(w)}" height="{px(box["h"])}"'
        ' rx="7"/>',
        f'<text class="lbl" x="{text_x}" y="{px(y)}" dy="14">'
        f"{escape(Truncator(node.label).chars(30))}</text>",
        f'<text class="sub" x="{text_x}" y="{px(y)}" dy="25">{op} · {shape}</text>',
    ]
    if v["values"]:
        canvas = canvas_html(v["values"], "hm", "value", pos)
        parts.append(
            f'<foreignObject {heat} y="{px(heat_y)}">{canvas}</foreignObject>'
            f'<text class="sc" x="{px(x + w - 8)}" y="{px(heat_y + 12)}">'
            f"±{short(v['values']['scale'])}</text>"
        )
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
            f'<tspan class="gn-sym">∇ </tspan>±{short(v["grad"]["scale"])}</text>'
        )
    parts.append("</g>")
    return mark_safe("".join(parts))
