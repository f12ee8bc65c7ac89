"""The tiny GPT: x = rmsnorm(wte[tok] + wpe[pos]); per layer x += attn_wo · MHA(rmsnorm(x)),
x += mlp_fc2 · relu(mlp_fc1 · rmsnorm(x)); logits = lm_head · x."""

import numpy as np

from . import ops
from .autograd import Tape

INIT_STD = 0.08


def param_shapes(config):
    """Parameter name -> shape, in storage order (every group is one contiguous run)."""
    c, v = config.n_embd, config.vocab_size
    shapes = {"wte": (v, c), "wpe": (config.block_size, c)}
    for i in range(config.n_layer):
        for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
            shapes[f"layer{i}.{name}"] = (c, c)
        shapes[f"layer{i}.mlp_fc1"] = (4 * c, c)
        shapes[f"layer{i}.mlp_fc2"] = (c, 4 * c)
    shapes["lm_head"] = (v, c)
    return shapes


def param_group(name):
    """'wte' -> 'embeddings', 'layer1.attn_wq' -> 'layer1.attn', 'lm_head' -> 'lm_head'."""
    if name in ("wte", "wpe"):
        return "embeddings"
    return name.split("_")[0] if name.startswith("layer") else name


class GPT:
    """Parameters live in one flat buffer (`flat`); `params` holds [out, in] views into it, so
    Adam and the norms work on one array. Update parameters in place, never rebind them."""

    def __init__(self, config, seed=0):
        self.config = config
        self.dtype = np.dtype(config.dtype)
        self.slices, self.groups, start = {}, {}, 0  # name -> slice of flat; group -> (start, stop)
        for name, shape in param_shapes(config).items():
            stop = start + int(np.prod(shape))
            self.slices[name] = (slice(start, stop), shape)
            group = param_group(name)
            self.groups[group] = (self.groups.get(group, (start,))[0], stop)
            start = stop
        self.flat = np.empty(start, self.dtype)
        self.params = self.views(self.flat)
        rng = np.random.default_rng(seed)
        for p in self.params.values():
            p[...] = rng.normal(0.0, INIT_STD, p.shape)
        b = config.block_size
        self.causal_mask = np.triu(np.full((b, b), -np.inf, self.dtype), 1)  # (block, block)

    def views(self, flat):
        """{parameter name: its [out, in] view} of an array laid out like `flat`."""
        return {name: flat[where].reshape(shape) for name, (where, shape) in self.slices.items()}

    def forward(self, ids, targets=None, positions=None, head_mask=None, mlp_mask=None):
        """Record the forward pass on a new tape. The last node is the loss when `targets` is
        given (mean over `positions`, default all), otherwise the logits. `head_mask`
        (n_layer, n_head) and `mlp_mask` (n_layer,) multiply each head's output and each MLP
        block's output: 0 switches it off (ablation), 1 keeps it; None adds no node."""
        ids = self._check_ids(ids, self.config.block_size)
        t = len(ids)
        tape = Tape()
        tok = tape.input("input tokens", ids)
        x = tape.apply(ops.embedding, self._param(tape, "wte"), tok, name="token embedding")
        pos = tape.input("positions", np.arange(t))
        pos = tape.apply(ops.embedding, self._param(tape, "wpe"), pos, name="position embedding")
        x = tape.apply(ops.add, x, pos, name="embedding sum")  # (T, C)
        x = tape.apply(ops.rmsnorm, x, name="embedding rmsnorm")
        for i in range(self.config.n_layer):
            tape.layer, tape.part = i, "attn"
            heads_keep = None if head_mask is None else self._keep(head_mask, i)[:, None, None]
            attn = self._attention(tape, x, i, heads_keep)
            x = tape.apply(ops.add, x, attn, name="residual + attention")
            tape.part = "mlp"
            mlp = self._mlp(tape, x, i)
            if mlp_mask is not None:
                mlp = tape.apply(ops.mask, mlp, keep=self._keep(mlp_mask, i), name="masked mlp")
            x = tape.apply(ops.add, x, mlp, name="residual + mlp")
        tape.layer, tape.part = None, "output"
        logits = tape.apply(ops.matmul, x, self._param(tape, "lm_head"), name="logits")  # (T, V)
        if targets is not None:
            targets = self._check_ids(targets, t)
            if len(targets) != t:
                raise ValueError(f"expected {t} targets (got {len(targets)})")
            positions = None if positions is None else self._check_positions(positions, t)
            tape.apply(ops.cross_entropy, logits, tape.input("targets", targets),
                       positions=positions, name="loss")
        return tape

    def _param(self, tape, name):
        return tape.param(name, self.params[name])

    def _keep(self, mask, i):
        return np.asarray(mask, self.dtype)[i]  # a row of heads (H,), or one block's scalar

    def _attention(self, tape, x, i, heads_keep=None):
        x = tape.apply(ops.rmsnorm, x, name="attn rmsnorm")
        heads = {}
        for role, w in (("query", "attn_wq"), ("key", "attn_wk"), ("value", "attn_wv")):
            full = tape.apply(ops.matmul, x, self._param(tape, f"layer{i}.{w}"), name=role)
            heads[role] = tape.apply(ops.split_heads, full, n_head=self.config.n_head,
                                     name=f"{role} heads", heads=True)  # (H, T, D)
        scores = tape.apply(ops.attention_scores, heads["query"], heads["key"],
                            name="attention scores", heads=True)  # (H, T, T)
        t = scores.value.shape[-1]
        scores = tape.apply(ops.causal_mask, scores, mask=self.causal_mask[:t, :t],
                            name="masked scores", heads=True)
        attn_weights = tape.apply(ops.softmax, scores, name="attention weights", heads=True)
        out = tape.apply(ops.weighted_sum, attn_weights, heads["value"], name="head outputs",
                         heads=True)  # (H, T, D)
        if heads_keep is not None:
            out = tape.apply(ops.mask, out, keep=heads_keep, name="masked heads", heads=True)
        out = tape.apply(ops.merge_heads, out, name="merged heads")  # (T, C)
        return tape.apply(ops.matmul, out, self._param(tape, f"layer{i}.attn_wo"),
                          name="attention output")

    def _mlp(self, tape, x, i):
        x = tape.apply(ops.rmsnorm, x, name="mlp rmsnorm")
        x = tape.apply(ops.matmul, x, self._param(tape, f"layer{i}.mlp_fc1"),
                       name="mlp hidden")  # (T, 4C)
        x = tape.apply(ops.relu, x, name="mlp relu")
        return tape.apply(ops.matmul, x, self._param(tape, f"layer{i}.mlp_fc2"),
                          name="mlp output")  # (T, C)

    def _check_ids(self, ids, max_len):
        ids = np.asarray(ids, np.intp)
        if ids.ndim != 1 or not 1 <= len(ids) <= max_len:
            raise ValueError(f"expected 1 to {max_len} token ids (got shape {ids.shape})")
        if ids.min() < 0 or ids.max() >= self.config.vocab_size:
            raise ValueError(f"token ids must be in 0..{self.config.vocab_size - 1}")
        return ids

    @staticmethod
    def _check_positions(positions, t):
        positions = np.asarray(positions, np.intp)
        distinct = len(np.unique(positions)) == len(positions)
        if not len(positions) or not distinct or positions.min() < 0 or positions.max() >= t:
            raise ValueError(f"positions must be distinct and in 0..{t - 1}")
        return positions

    def flat_grad(self, tape, out=None):
        """The parameter gradients of a tape after backward, as one array shaped like `flat`."""
        grads = {n.name: n.grad for n in tape.params()}
        return np.concatenate([grads[name].ravel() for name in self.params], out=out)

    def loss_and_grads(self, tokens, positions=None):
        """Inputs tokens[:-1], targets tokens[1:]; loss = mean cross-entropy over `positions`
        (default: all). Returns (loss, {param name: gradient})."""
        tokens = np.asarray(tokens, np.intp)
        if tokens.ndim != 1 or len(tokens) < 2:
            raise ValueError("tokens must be a sequence of at least 2 ids")
        tape = self.forward(tokens[:-1], tokens[1:], positions)
        tape.backward()
        return float(tape.nodes[-1].value), {n.name: n.grad for n in tape.params()}

    def logits(self, ids):
        """(T, V) next-token logits for every position."""
        return self.forward(ids).nodes[-1].value
