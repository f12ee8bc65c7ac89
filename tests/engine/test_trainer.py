"""Training: records, determinism, checkpoint and resume, learning, sampling, validation."""

import json
import math

import numpy as np
import pytest

from engine import (
    LIMITS,
    GPTConfig,
    Trainer,
    checkpoint_from_bytes,
    checkpoint_to_bytes,
    validate_train_config,
)
from engine.optim import Adam

DOCS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn"]
SMALL = {"n_embd": 16, "n_head": 4, "n_layer": 2, "block_size": 8}


def trainer(docs=DOCS, **kw):
    settings = {**SMALL, "num_steps": 30, "learning_rate": 0.01, "seed": 0} | kw
    return Trainer(docs, **settings)


def test_record_fields_and_lr_schedule():
    t = trainer(num_steps=4, learning_rate=0.02)
    records = list(t)
    assert [r.step for r in records] == [1, 2, 3, 4] and t.done and t.step_count == 4
    assert [r.lr for r in records] == pytest.approx([0.02, 0.015, 0.01, 0.005])
    groups = ["embeddings", "layer0.attn", "layer0.mlp", "layer1.attn", "layer1.mlp", "lm_head"]
    for r in records:
        for norms in (r.grad_norms, r.update_norms):
            assert list(norms) == [*groups, "total"]
            assert norms["total"] == pytest.approx(math.hypot(*(norms[g] for g in groups)))
    with pytest.raises(RuntimeError, match="done"):
        t.step()


def test_norms_are_the_norms_of_the_gradient_and_the_update():
    t = trainer()
    doc_index, tokens = t.next_doc()
    before = {k: v.copy() for k, v in t.model.params.items()}
    _, grads = t.model.loss_and_grads(tokens)
    r = t.step()
    assert r.doc_index == doc_index
    wq = "layer0.attn_wq"
    attn = [f"layer0.attn_w{x}" for x in "qkvo"]
    assert r.grad_norms["layer0.attn"] == pytest.approx(
        np.sqrt(sum(np.sum(grads[k].astype(np.float64) ** 2) for k in attn)), rel=1e-5)
    assert r.update_norms["lm_head"] == pytest.approx(
        np.linalg.norm(t.model.params["lm_head"] - before["lm_head"]), rel=1e-5)
    assert not np.array_equal(t.model.params[wq], before[wq])


def test_adam_matches_the_textbook_rule():
    rng = np.random.default_rng(0)
    params = rng.normal(size=50)
    ref, m, v = params.copy(), np.zeros(50), np.zeros(50)
    adam = Adam(50, np.float64)
    for t in range(1, 4):
        grad = rng.normal(size=50)
        adam.step(params, grad, lr=0.1 / t)
        m = 0.85 * m + 0.15 * grad
        v = 0.99 * v + 0.01 * grad**2
        ref -= (0.1 / t) * (m / (1 - 0.85**t)) / (np.sqrt(v / (1 - 0.99**t)) + 1e-8)
    assert np.allclose(params, ref, rtol=1e-12, atol=1e-14)


def test_captured_predictions_and_attention():
    t = trainer(top_k=5)
    _, tokens = t.next_doc()
    logits = t.model.logits(tokens[:-1])
    r = t.step()
    n = len(tokens) - 1
    assert np.array_equal(r.tokens, tokens[:-1]) and np.array_equal(r.targets, tokens[1:])
    assert r.topk_ids.shape == r.topk_probs.shape == (n, 5)
    assert np.all(np.diff(r.topk_probs, axis=1) <= 0)
    assert np.isclose(-np.mean(np.log(r.target_probs)), r.loss, rtol=1e-5)
    assert r.attn_weights.shape == (2, 4, n, n)
    assert np.allclose(r.attn_weights.sum(-1), 1, atol=1e-6)
    assert np.all(np.triu(r.attn_weights, 1) == 0)
    assert np.array_equal(r.topk_ids[:, 0], logits.argmax(-1))
    snapshot = json.loads(json.dumps(r.to_snapshot(), allow_nan=False))
    assert set(snapshot) >= {"step", "tokens", "targets", "topk_ids", "topk_probs",
                             "target_probs", "attn_weights"}
    assert np.allclose(snapshot["attn_weights"], r.attn_weights, rtol=1e-3, atol=1e-12)
    scalars = json.loads(json.dumps(r.to_scalars(), allow_nan=False))
    assert scalars["step"] == 1 and scalars["loss"] == r.loss
    assert scalars["grad_norms"]["total"] == pytest.approx(r.grad_norms["total"], rel=1e-4)


def test_capture_off_keeps_scalars_only():
    r = trainer(capture=False).step()
    assert r.grad_norms and r.tokens is None and r.attn_weights is None
    with pytest.raises(ValueError, match="not captured"):
        r.to_snapshot()


def test_same_inputs_give_identical_losses():
    a = [r.loss for r in trainer()]
    b = [r.loss for r in trainer()]
    c = [r.loss for r in trainer(seed=1)]
    assert a == b and a != c


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_resume_from_checkpoint_matches_uninterrupted_run(dtype):
    full = trainer(dtype=dtype, sample_interval=5, sample_count=2)
    records = list(full)
    half = trainer(dtype=dtype, sample_interval=5, sample_count=2)
    for _ in range(12):
        half.step()
    blob = checkpoint_to_bytes(half.checkpoint())
    half.step()  # a checkpoint is a copy: training on does not change it
    resumed = Trainer.from_checkpoint(DOCS, checkpoint_from_bytes(blob))
    assert resumed.step_count == 12
    rest = list(resumed)
    assert [r.loss for r in rest] == [r.loss for r in records[12:]]
    assert [r.samples for r in rest] == [r.samples for r in records[12:]]
    assert all(np.array_equal(full.model.params[k], resumed.model.params[k])
               for k in full.model.params)


def test_replay_recomputes_a_step_from_an_earlier_checkpoint():
    full = list(trainer(num_steps=12))
    t = trainer(num_steps=12)
    t.replay(3)
    ckpt = checkpoint_from_bytes(checkpoint_to_bytes(t.checkpoint()))
    again = Trainer.from_checkpoint(DOCS, ckpt, sample_count=0)
    again.replay(8)
    record = again.step()  # step 9, recomputed with everything captured
    assert record.step == 9 and record.loss == full[8].loss
    assert np.array_equal(record.attn_weights, full[8].attn_weights)
    assert record.to_snapshot() == full[8].to_snapshot()


def test_checkpoint_settings_may_be_numpy_numbers():
    t = trainer(seed=np.int64(3), num_steps=np.int32(5))
    back = checkpoint_from_bytes(checkpoint_to_bytes(t.checkpoint()))
    assert back["settings"]["seed"] == 3 and back["settings"]["num_steps"] == 5


def test_checkpoint_contents_and_mismatch():
    t = trainer()
    t.step()
    ckpt = t.checkpoint()
    assert ckpt["step"] == 1 and set(ckpt["params"]) == set(t.model.params)
    assert set(ckpt) >= {"params", "adam_m", "adam_v", "doc_order", "settings", "chars"}
    back = checkpoint_from_bytes(checkpoint_to_bytes(ckpt))
    assert back["settings"] == ckpt["settings"] and back["chars"] == ckpt["chars"]
    assert all(np.array_equal(back["adam_v"][k], ckpt["adam_v"][k]) for k in ckpt["adam_v"])
    with pytest.raises(ValueError, match="learning_rate"):
        Trainer.from_checkpoint(DOCS, back, learning_rate=0.02)
    with pytest.raises(ValueError, match="other documents"):
        Trainer.from_checkpoint([*DOCS, "zoe"], back)


def test_learns_a_structured_corpus():
    # every doc counts up from a random digit: only the first digit is uncertain
    docs = ["".join(str((s + i) % 10) for i in range(8)) for s in range(10)] * 3
    t = Trainer(docs, n_embd=16, n_head=2, n_layer=1, block_size=10, num_steps=400,
                learning_rate=0.02, seed=0, capture=False, sample_count=20, temperature=0.5,
                sample_interval=400)
    records = list(t)
    late = np.mean([r.loss for r in records[-50:]])
    # a perfect model pays ln(10) on the first digit only: ln(10) / 9 ≈ 0.26 per token
    assert late < 0.35 * math.log(t.vocab.size)
    samples = records[-1].samples
    good = [s for s in samples if len(s) == 8 and s in "01234567890123456789"]
    assert len(good) >= 16, samples


def test_samples_are_deterministic_and_leave_training_alone():
    a, b = trainer(), trainer()
    assert a.sample(3, 1.0) == a.sample(3, 1.0)
    losses_a = []
    for _ in range(10):
        a.sample(2, 0.8)
        losses_a.append(a.step().loss)
    assert losses_a == [b.step().loss for _ in range(10)]
    samples = a.sample(20, 1.0)
    assert all(len(s) <= SMALL["block_size"] and set(s) <= set("".join(DOCS)) for s in samples)
    assert a.sample(2, 0) == a.sample(2, 0)  # temperature 0: greedy


def test_samples_arrive_every_interval():
    records = list(trainer(num_steps=7, sample_interval=3, sample_count=2))
    assert [r.step for r in records if r.samples] == [3, 6, 7]
    assert all(len(r.samples) == 2 for r in records if r.samples)


def test_vocab_and_encoding():
    t = trainer(block_size=4)
    v = t.vocab
    assert v.chars == "".join(sorted(set("".join(DOCS)))) and v.bos == v.size - 1
    assert list(v.encode("ava")) == [v.bos, v.index["a"], v.index["v"], v.index["a"], v.bos]
    assert len(v.encode("isabella", 4)) == 5 and v.decode(v.encode("isabella", 4)) == "isab"
    assert t.config.vocab_size == v.size
    with pytest.raises(ValueError, match="not in the vocabulary"):
        v.encode("zz")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_embd", 80, "n_embd must be between 4 and 64 (got 80)"),
        ("n_embd", 2, "n_embd must be between 4 and 64 (got 2)"),
        ("n_layer", 3, "n_layer must be between 1 and 2 (got 3)"),
        ("n_head", 9, "n_head must be between 1 and 8 (got 9)"),
        ("n_head", 3, "n_head must divide n_embd"),
        ("block_size", 65, "block_size must be between 1 and 64 (got 65)"),
        ("block_size", 0, "block_size must be between"),
        ("n_embd", 16.0, "n_embd must be an integer"),
        ("num_steps", 2001, "num_steps must be between 1 and 2000 (got 2001)"),
        ("learning_rate", 0, "learning_rate must be between"),
        ("learning_rate", float("nan"), "learning_rate must be a number"),
        ("top_k", 21, "top_k must be between 1 and 20"),
        ("temperature", 5, "temperature must be between"),
        ("dtype", "float16", "dtype must be one of float32, float64"),
    ],
)
def test_settings_out_of_range_are_refused(field, value, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        trainer(**{field: value})


def test_limits_and_validation_helpers():
    assert LIMITS["num_steps"] == (1, 2000) and LIMITS["n_head"] == (1, 8)
    assert LIMITS["block_size"][1] == LIMITS["n_embd"][1] == 64 and LIMITS["n_layer"] == (1, 2)
    validate_train_config(num_steps=2000, learning_rate=0.01)
    with pytest.raises(ValueError, match="n_head must divide n_embd"):
        validate_train_config(n_embd=64, n_head=6)
    with pytest.raises(ValueError, match="unknown setting"):
        validate_train_config(steps=3)
    with pytest.raises(ValueError, match="vocab_size must be between 2"):
        GPTConfig(1, 16, 4, 1, 8)
    with pytest.raises(ValueError, match="at least one character"):
        Trainer([""], **SMALL, num_steps=5, learning_rate=0.01)
    with pytest.raises(ValueError, match="non-empty list of strings"):
        Trainer([], **SMALL, num_steps=5, learning_rate=0.01)
