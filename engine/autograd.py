"""Reverse-mode autograd on a tape: the forward pass appends nodes, backward walks them back.

Nodes are whole tensors, so a graph stays small enough to draw (a few dozen nodes).
"""

import numpy as np


class Node:
    """One tensor in the graph: a parameter, an input, or the output of an op."""

    __slots__ = ("id", "kind", "name", "layer", "part", "heads", "fn", "value", "inputs",
                 "consts", "backward", "saved", "grad")

    def __init__(self, id, kind, name, value, layer, part, fn=None, inputs=(), consts=None,
                 backward=None, saved=None, heads=False):
        self.id, self.kind, self.name, self.value = id, kind, name, value
        self.layer, self.part, self.heads = layer, part, heads  # heads: axis 0 is the head
        # value = fn(*input values, **consts)
        self.fn, self.inputs, self.consts = fn, inputs, consts or {}
        self.backward, self.saved = backward, saved
        self.grad = None

    @property
    def op(self):
        return self.fn.op_name if self.fn else self.kind

    @property
    def formula(self):
        return self.fn.formula if self.fn else ""

    @property
    def label(self):
        if self.kind == "param" or self.layer is None:
            return self.name
        return f"layer {self.layer} · {self.name}"


class Tape:
    """The nodes of one forward pass in the order they were computed (a topological order)."""

    def __init__(self):
        self.nodes = []
        self.layer = None  # set by the model while it builds a layer
        self.part = "embedding"  # embedding | attn | mlp | output

    def _add(self, kind, name, value, **kw):
        node = Node(len(self.nodes), kind, name, value, self.layer, self.part, **kw)
        self.nodes.append(node)
        return node

    def param(self, name, value):
        return self._add("param", name, value)

    def input(self, name, value):
        return self._add("input", name, value)

    def apply(self, fn, *inputs, name, heads=False, **consts):
        """Run `fn` on the inputs' values and record the result as a node."""
        out = fn(*[n.value for n in inputs], **consts)
        saved = out[2] if len(out) == 3 else None
        return self._add("op", name, out[0], fn=fn, inputs=inputs, consts=consts,
                         backward=out[1], saved=saved, heads=heads)

    def backward(self, root=None):
        """Fill `.grad` of every node that `root` (default: the last node) depends on."""
        root = self.nodes[-1] if root is None else root
        root.grad = np.ones_like(root.value)
        for node in reversed(self.nodes[: root.id + 1]):
            if node.grad is None or node.backward is None:
                continue
            for inp, g in zip(node.inputs, node.backward(node.grad), strict=True):
                if g is not None:
                    inp.grad = g if inp.grad is None else inp.grad + g

    def find(self, name):
        return [n for n in self.nodes if n.name == name]

    def params(self):
        return [n for n in self.nodes if n.kind == "param"]
