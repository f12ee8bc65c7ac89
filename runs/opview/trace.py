"""The op view's model of a trace: a run's snapshot step traced at one position, with `op`
backward steps done and a head chosen.

The graph is the engine's op-level trace (engine.trace_token) of the snapshot step's
document with the parameters stored for that step. `?op=k` is the number of backward steps
done: the ops backward_order[:k] have passed their gradient on, backward_order[k - 1] is
the current op. Attention ops are batched over heads (axis 0); `&head=h` (default 0) picks
the head the side panel shows. Like `op`, a head out of range is clamped; the panel says so.
"""

from django.http import Http404
from django.urls import reverse
from django.utils.text import Truncator

from engine import GPT, GPTConfig, trace_token
from runs.models import Kind, RunEvent
from runs.page import token_labels


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
    """A run's snapshot step traced at one position, with `op` backward steps done.

    `tokens` (token ids; default: the step's training line) is the sequence traced, so any
    text the student types can be traced with the step's parameters: position `pos`
    predicts tokens[pos + 1]."""

    def __init__(self, run, step, pos, op=None, head=None, tokens=None):
        self.run, self.step, self.pos = run, step, pos
        self.snapshot = snapshot_parts(run, step)
        if self.snapshot is None:
            raise Http404("no snapshot at this step")
        self.line = [*self.snapshot["tokens"], self.snapshot["targets"][-1]]  # trained on
        self.tokens = self.line if tokens is None else list(tokens)
        if not 0 <= pos < len(self.tokens) - 1:
            raise Http404("no such position")
        params = run.params_at(step)
        if params is None:
            raise Http404("no parameters stored for this step")
        self.model = model_at(run, params)
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
            self._step_grads = self.model.loss_and_grads(self.line)[1]
        return self._step_grads

    def state_of(self, node_id):
        if self.current is not None and node_id == self.current.id:
            return "current"
        if node_id in self.done:
            return "done"
        return "pending" if self.trace.nodes[node_id].grad is not None else "none"

    def base_context(self):
        """What every fragment of the page needs: where we are and the links to move."""
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
            "update_url": f"{self.url}update/",
        }


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
