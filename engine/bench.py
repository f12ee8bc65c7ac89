"""`python -m engine.bench`: ms per training step at the max config, on one thread.

(a) bare: forward + backward + Adam; (b) instrumented: Trainer.step with every per-step
capture (norms, top-k, target probabilities, attention weights).
"""

import os
import sys
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CONFIG = {"n_embd": 64, "n_head": 4, "n_layer": 2, "block_size": 64}


def ms_per_step(step, steps, repeats=5):
    for _ in range(20):  # warm up
        step()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - start) / steps * 1e3)
    return best


def torch_ms(tokens, vocab_size, steps):
    """The same model in PyTorch eager on one thread, if torch is installed; else None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    c, h, n_layer, t = CONFIG["n_embd"], CONFIG["n_head"], CONFIG["n_layer"], len(tokens) - 1
    shapes = [(vocab_size, c), (t, c), (vocab_size, c)]
    shapes += [(c, c)] * 4 * n_layer + [(4 * c, c), (c, 4 * c)] * n_layer
    params = [(torch.randn(s) * 0.08).requires_grad_() for s in shapes]
    opt = torch.optim.Adam(params, lr=0.01, betas=(0.85, 0.99), eps=1e-8)
    ids, targets = torch.tensor(tokens[:-1]), torch.tensor(tokens[1:])
    mask = torch.ones(t, t).tril().bool()

    def norm(x):
        return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + 1e-5)

    def step():
        wte, wpe, lm_head, *rest = params
        attn, mlp = rest[: 4 * n_layer], rest[4 * n_layer :]
        x = norm(wte[ids] + wpe)
        for i in range(n_layer):
            wq, wk, wv, wo = attn[4 * i : 4 * i + 4]
            y = norm(x)
            q, k, v = ((y @ w.T).view(t, h, -1).transpose(0, 1) for w in (wq, wk, wv))
            s = (q @ k.transpose(1, 2)) / (c // h) ** 0.5
            a = s.masked_fill(~mask, float("-inf")).softmax(-1)
            x = x + (a @ v).transpose(0, 1).reshape(t, c) @ wo.T
            x = x + torch.relu(norm(x) @ mlp[2 * i].T) @ mlp[2 * i + 1].T
        loss = torch.nn.functional.cross_entropy(x @ lm_head.T, targets)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return ms_per_step(step, steps)


def main():
    if any(os.environ.get(v) != "1" for v in THREAD_VARS):
        # BLAS reads these when NumPy loads, so start again with them set
        env = {**os.environ, **dict.fromkeys(THREAD_VARS, "1")}
        os.execve(sys.executable, [sys.executable, "-m", "engine.bench", *sys.argv[1:]], env)
    import numpy as np

    from .trainer import Trainer

    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rng = np.random.default_rng(0)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    docs = ["".join(rng.choice(letters, 80)) for _ in range(50)]  # every doc fills the block
    settings = {**CONFIG, "num_steps": 2000, "learning_rate": 0.01, "sample_count": 0}
    bare_trainer = Trainer(docs, **settings, capture=False)
    tokens = bare_trainer.doc_tokens[0]
    bare = ms_per_step(lambda: bare_trainer.update(tokens, 0.001), steps)
    trainer = Trainer(docs, **settings, capture=True)

    def instrumented_step():
        if trainer.done:
            trainer.step_count = 0
        trainer.step()

    instrumented = ms_per_step(instrumented_step, steps)
    record = trainer.step()
    start = time.perf_counter()
    record.to_snapshot()
    snapshot = (time.perf_counter() - start) * 1e3
    print(f"config: {CONFIG}, vocab {trainer.vocab.size}, {len(tokens) - 1} tokens per step")
    print(f"(a) forward + backward + Adam:       {bare:.3f} ms/step")
    print(f"(b) with every per-step capture:     {instrumented:.3f} ms/step")
    print(f"    to_snapshot() (only when stored): {snapshot:.3f} ms")
    line = f"bare_ms={bare:.3f} instrumented_ms={instrumented:.3f}"
    torch = torch_ms(tokens, trainer.vocab.size, steps)
    if torch is not None:
        line += f" torch_ms={torch:.3f} ratio_bare={bare / torch:.2f}"
        line += f" ratio_instrumented={instrumented / torch:.2f}"
    print(line)


if __name__ == "__main__":
    main()
