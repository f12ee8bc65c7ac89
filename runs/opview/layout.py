"""The op view's graph layout, computed on the server: rows top to bottom, the residual
stream down the middle, every branch to its right, the heads of an attention op side by side.

Pure Python over the trace's node dicts (engine Trace.to_dict(values=False)["nodes"]); it
returns boxes and SVG edge paths, so the template only draws.
"""

from dataclasses import dataclass, field

NODE_W, LEAF_W, NODE_H = 184, 150, 66
HEAT_TOP = 28  # the heatmaps start this far below a box's top, under its two text lines
HEAD_GAP, HEAD_PAD = 6, 6
NUMBER_W = 56  # right of the heatmaps: the gradient norm
GAP_X, ROW_PITCH, MARGIN = 22, 92, 16


@dataclass
class Box:
    id: int
    row: int
    w: int
    h: int = NODE_H
    cx: float = 0.0
    y: float = 0.0
    spine: bool = False
    heads: list = field(default_factory=list)  # [{head, x, y, w, h}] side by side

    @property
    def x(self):
        return self.cx - self.w / 2

    def as_dict(self):
        return {
            "id": self.id,
            "row": self.row,
            "x": round(self.x, 1),
            "y": round(self.y, 1),
            "w": self.w,
            "h": self.h,
            "cx": round(self.cx, 1),
            "spine": self.spine,
            "heads": self.heads,
        }


def head_width(n_head):
    """Narrower heads when there are many, so 8 heads still fit one screen."""
    return min(90, max(36, 300 // n_head))


def node_width(node, n_head):
    if node.get("head_axis") is not None:
        head_w = head_width(n_head)
        return max(NODE_W, n_head * head_w + (n_head - 1) * HEAD_GAP + 2 * HEAD_PAD + NUMBER_W)
    return LEAF_W if node["kind"] != "op" else NODE_W


def spine_ids(nodes):
    """The residual stream: from the loss back through each op's first input."""
    by_id = {n["id"]: n for n in nodes}
    node, spine = nodes[-1], []
    while True:
        spine.append(node["id"])
        if not node["inputs"]:
            return set(spine)
        node = by_id[node["inputs"][0]]


def rows_of(nodes, spine):
    """Row of each node: ops as early as their inputs allow (so query, key and value share
    a row), and each leaf (a parameter or an input) right above its first consumer."""
    consumers = {n["id"]: [] for n in nodes}
    for n in nodes:
        for i in n["inputs"]:
            consumers[i].append(n["id"])
    kind = {n["id"]: n["kind"] for n in nodes}
    row = {}
    for n in nodes:  # nodes come in topological order
        ops_in = [row[i] for i in n["inputs"] if kind[i] == "op"]
        row[n["id"]] = 1 + max(ops_in, default=0) if n["kind"] == "op" else 0
    for n in reversed(nodes):
        later = [row[c] for c in consumers[n["id"]]]
        if not later:
            continue
        if n["kind"] != "op":
            row[n["id"]] = min(later) - 1
    top = min(row.values())
    return {i: r - top for i, r in row.items()}, consumers


def layout(nodes, n_head):
    """{"width", "height", "nodes": {id: box dict}, "edges": [{"src", "dst", "d"}]}."""
    nodes_by_id = {n["id"]: n for n in nodes}
    spine = spine_ids(nodes)
    row, consumers = rows_of(nodes, spine)
    boxes = {
        n["id"]: Box(n["id"], row[n["id"]], node_width(n, n_head), spine=n["id"] in spine)
        for n in nodes
    }
    spine_half = NODE_W / 2
    feeds_spine = {
        n["id"]
        for n in nodes
        if n["kind"] != "op" and n["id"] not in spine and set(consumers[n["id"]]) & spine
    }

    def place_row(items, side):
        """Pack one row's boxes on one side of the spine, nearest their wish first."""
        if side > 0:
            edge = spine_half + GAP_X
            for box, wish in sorted(items, key=lambda bw: (bw[1], bw[0].id)):
                box.cx = max(wish, edge + box.w / 2)
                edge = box.cx + box.w / 2 + GAP_X
        else:
            edge = -spine_half - GAP_X
            for box, wish in sorted(items, key=lambda bw: (-bw[1], bw[0].id)):
                box.cx = min(wish, edge - box.w / 2)
                edge = box.cx - box.w / 2 - GAP_X

    kind = {n["id"]: n["kind"] for n in nodes}
    by_row = {}
    for box in boxes.values():
        by_row.setdefault(box.row, []).append(box)
    placed = {}  # op id -> cx
    for r in sorted(by_row):  # ops top-down, each wishing for the middle of its inputs
        right = []
        for box in by_row[r]:
            if box.spine:
                box.cx = placed[box.id] = 0.0
            elif kind[box.id] == "op":
                xs = [placed[i] for i in nodes_by_id[box.id]["inputs"] if i in placed]
                right.append((box, sum(xs) / len(xs) if xs else 0.0))
        place_row(right, +1)
        placed.update({box.id: box.cx for box, _ in right})
    for r in sorted(by_row):  # then leaves, each wishing to sit just right of its consumer
        right, left, fixed = [], [], []
        for box in by_row[r]:
            if box.spine:
                continue
            if kind[box.id] == "op":
                fixed.append(box)
                continue
            consumer = boxes[consumers[box.id][0]]
            if box.id in feeds_spine:
                left.append((box, consumer.cx - consumer.w / 2 - GAP_X - box.w / 2))
            else:
                right.append((box, consumer.cx + consumer.w / 2 + GAP_X + box.w / 2))
        if right:  # re-pack the row's right side with the ops where they already are
            place_row([(b, b.cx) for b in fixed] + right, +1)
        place_row(left, -1)

    shift = MARGIN - min(b.x for b in boxes.values())
    for box in boxes.values():
        box.cx += shift
        box.y = MARGIN + box.row * ROW_PITCH
        if nodes_by_id[box.id].get("head_axis") is not None:
            head_w = (box.w - 2 * HEAD_PAD - NUMBER_W - (n_head - 1) * HEAD_GAP) / n_head
            box.heads = [
                {
                    "head": h,
                    "x": round(box.x + HEAD_PAD + h * (head_w + HEAD_GAP), 1),
                    "y": round(box.y + HEAT_TOP, 1),
                    "w": round(head_w, 1),
                    "h": NODE_H - HEAT_TOP - 4,
                }
                for h in range(n_head)
            ]
    edges = []
    for n in nodes:
        dst = boxes[n["id"]]
        for i in n["inputs"]:
            src = boxes[i]
            if src.heads and dst.heads:  # head h feeds head h
                pairs = [
                    (s["x"] + s["w"] / 2, d["x"] + d["w"] / 2)
                    for s, d in zip(src.heads, dst.heads, strict=True)
                ]
            else:
                pairs = [(src.cx, dst.cx)]
            for x1, x2 in pairs:
                edges.append({"src": i, "dst": n["id"], "d": curve(x1, src.y + src.h, x2, dst.y)})
    return {
        "width": round(max(b.x + b.w for b in boxes.values()) + MARGIN),
        "height": round(max(b.y + b.h for b in boxes.values()) + MARGIN),
        "nodes": {i: b.as_dict() for i, b in boxes.items()},
        "edges": edges,
    }


def curve(x1, y1, x2, y2):
    """From the bottom of one box to the top of another: straight down while it passes
    rows in between (its own column), then an S-shaped cubic into the target."""
    start = f"M{x1:.1f} {y1:.1f}"
    if y2 - y1 > 1.5 * ROW_PITCH:
        y1 = y2 - (ROW_PITCH - NODE_H)
        start += f"L{x1:.1f} {y1:.1f}"
    bend = max(9.0, (y2 - y1) / 2)
    return f"{start}C{x1:.1f} {y1 + bend:.1f} {x2:.1f} {y2 - bend:.1f} {x2:.1f} {y2:.1f}"
