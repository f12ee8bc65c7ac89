"""The tape: gradients add up over every use of a node, and nodes know what they are."""

import numpy as np

from engine import ops
from engine.autograd import Tape


def test_a_node_used_twice_gets_both_gradients():
    tape = Tape()
    x = tape.param("x", np.array([[1.0, -2.0, 3.0]]))
    w = tape.param("w", np.array([[0.5, 1.0, -1.0]]))
    y = tape.apply(ops.add, x, x, name="twice")  # y = 2x
    z = tape.apply(ops.matmul, y, w, name="z")  # z = 2 x·w
    tape.backward(z)
    assert np.allclose(x.grad, 2 * w.value) and np.allclose(w.grad, 2 * x.value)
    assert y.grad is not None and z.grad == 1


def test_backward_stops_at_the_root_and_labels_read_well():
    tape = Tape()
    x = tape.input("x", np.ones((2, 4)))
    tape.layer, tape.part = 1, "mlp"
    h = tape.apply(ops.relu, x, name="mlp relu")
    later = tape.apply(ops.rmsnorm, h, name="after")
    tape.backward(h)
    assert later.grad is None and np.allclose(x.grad, 1)
    assert h.label == "layer 1 · mlp relu" and h.op == "relu" and h.formula.startswith("dx")
    assert x.label == "x" and x.op == "input" and x.part == "embedding"
    assert [n.name for n in tape.find("after")] == ["after"]
