"""Op-level trace: the graph of one token's forward pass down to its own loss, with gradients.

It is the training tape itself, run on tokens[:position + 1] with the loss at `position`
only (causal attention makes later tokens irrelevant), so it uses the very same ops.
"""

from dataclasses import dataclass

import numpy as np

from .autograd import Tape
from .record import rounded


@dataclass
class Trace:
    tape: Tape
    tokens: np.ndarray  # tokens[: position + 2]: inputs and the target of `position`
    position: int
    n_head: int

    @property
    def nodes(self):
        return self.tape.nodes

    @property
    def loss(self):
        return float(self.nodes[-1].value)

    @property
    def backward_order(self):
        """Ids of the nodes that got a gradient, in the order backward visited them."""
        return [n.id for n in reversed(self.nodes) if n.grad is not None]

    def param_grads(self):
        return {n.name: n.grad for n in self.tape.params()}

    def node_dict(self, node, values=True):
        """One node (a Node or its id) as JSON-able data, by default with all its values."""
        node = self.nodes[node] if isinstance(node, int) else node
        d = {
            "id": node.id,
            "op": node.op,
            "kind": node.kind,  # param | input | op
            "name": node.name,
            "label": node.label,
            "layer": node.layer,
            "part": node.part,  # embedding | attn | mlp | output
            "shape": list(np.shape(node.value)),
            "inputs": [n.id for n in node.inputs],
            "formula": node.formula,
            "head_axis": 0 if node.heads else None,
            "head_labels": [f"layer {node.layer} · head {h} · {node.name}"
                            for h in range(self.n_head)] if node.heads else None,
            "norm": _norm(node.value),
            "grad_norm": None if node.grad is None else _norm(node.grad),
        }
        if values:
            is_float = np.issubdtype(np.asarray(node.value).dtype, np.floating)
            d["values"] = rounded(node.value) if is_float else np.asarray(node.value).tolist()
            d["grad"] = None if node.grad is None else rounded(node.grad)
            if node.saved:
                d["saved"] = {k: rounded(v) for k, v in node.saved.items()}
        return d

    def to_dict(self, values=False):
        """The graph as JSON-able data. Nodes carry shapes and norms; their values and grads
        only with values=True (megabytes at the max config: expand one with node_dict)."""
        return {
            "position": self.position,
            "tokens": self.tokens.tolist(),
            "target": int(self.tokens[self.position + 1]),
            "loss": self.loss,
            "n_head": self.n_head,
            "nodes": [self.node_dict(n, values) for n in self.nodes],
            "backward_order": self.backward_order,
        }


def _norm(a):
    a = np.asarray(a, np.float64)
    return float(np.sqrt(np.sum(a * a, where=np.isfinite(a))))


def trace_token(model, tokens, position):
    """Trace the loss of predicting tokens[position + 1] from tokens[: position + 1]."""
    tokens = np.asarray(tokens, np.intp)
    if not 0 <= position < len(tokens) - 1:
        raise ValueError(f"position must be in 0..{len(tokens) - 2} (got {position})")
    tokens = tokens[: position + 2]
    tape = model.forward(tokens[:-1], tokens[1:], positions=[position])
    tape.backward()
    return Trace(tape, tokens, position, model.config.n_head)
