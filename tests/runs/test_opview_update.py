"""runs/opview/update.py: apply the update. The probabilities and losses before and after
equal fresh forward passes with the parameters stored for this step and the next, and the
Adam numbers shown equal the optimiser's own, from a trainer replayed here."""

import re

import numpy as np
import pytest
from django.urls import reverse

from engine import GPT, GPTConfig
from packs_app.sources import resolve_source
from runs.evaluation import trainer_for
from runs.models import Run
from runs.opview import update as update_module
from runs.opview.trace import OpView
from runs.opview.update import apply_update
from runs.training import train_run


@pytest.fixture
def run(student, start_run):
    run = start_run(student, n_layer=2, n_head=2, num_steps=5, snapshot_interval=1)
    assert train_run(run.pk, "test-worker")
    return Run.objects.get(pk=run.pk)


def model_with(run, params):
    c = run.config
    model = GPT(GPTConfig(run.vocab_size, c["n_embd"], c["n_head"], c["n_layer"], c["block_size"]))
    for name, value in params.items():
        model.params[name][...] = value
    return model


def p_and_loss(model, tokens, pos):
    logits = model.logits(tokens[: pos + 1])[-1].astype(np.float64)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    target = tokens[pos + 1]
    return p[target], -np.log(p[target]), model.loss_and_grads(tokens)[0]


def numbers(row):
    return np.array([float(v) for v in row["values"]])


@pytest.mark.services  # the stored parameters and events read back from PostgreSQL too
def test_before_and_after_are_fresh_forward_passes_and_adam_is_the_optimisers(run):
    step, pos = 3, 4
    view = OpView(run, step, pos, op=10_000)
    u = apply_update(view)["update"]
    tokens = view.line
    p0, loss0, line0 = p_and_loss(model_with(run, run.params_at(step)), tokens, pos)
    p1, loss1, line1 = p_and_loss(model_with(run, run.params_at(step + 1)), tokens, pos)
    assert u["token"]["p_before"] == pytest.approx(p0, rel=1e-5)
    assert u["token"]["p_after"] == pytest.approx(p1, rel=1e-5)
    assert u["token"]["loss_before"] == pytest.approx(loss0, rel=1e-5)
    assert u["token"]["loss_after"] == pytest.approx(loss1, rel=1e-5)
    assert u["line"]["loss_before"] == pytest.approx(line0, rel=1e-5)
    assert u["line"]["loss_after"] == pytest.approx(line1, rel=1e-5)
    stored_loss = run.events.get(kind="step", step=step).data["loss"]
    assert u["line"]["loss_before"] == pytest.approx(stored_loss, rel=1e-5)
    assert u["token"]["p_words"] == ("rose" if p1 > p0 else "fell")

    # the optimiser's own numbers: a trainer replayed here, its Adam state read directly
    source = resolve_source(run.source_ref, run.owner, include_disabled=True)
    trainer = trainer_for(source.documents, run.config)  # the run's lines, held-out ones apart
    trainer.replay(step - 1)
    lr = trainer.lr()
    trainer.update(trainer.next_doc()[1], lr)
    opt, views = trainer.optimizer, trainer.model.views
    m, v = views(opt.m), views(opt.v)
    assert u["lr"] == pytest.approx(lr) and u["t"] == step
    after = run.params_at(step + 1)
    before = run.params_at(step)
    rows = {w["name"]: w for w in u["weights"]}
    assert set(rows) == set(view.trace.param_grads())
    token = view.tokens[pos]
    assert rows["wte"]["row"] == token and rows["wpe"]["row"] == pos
    assert rows["lm_head"]["row"] == view.tokens[pos + 1]
    for name, w in rows.items():
        r, shown = w["row"], {row["name"]: row for row in w["rows"]}
        m_hat = m[name][r] / (1 - opt.beta1**opt.t)
        v_hat = v[name][r] / (1 - opt.beta2**opt.t)
        delta = -lr * m_hat / (np.sqrt(v_hat) + opt.eps)
        n = len(shown["m̂ (running mean of ∇)"]["values"])
        np.testing.assert_allclose(numbers(shown["m̂ (running mean of ∇)"]), m_hat[:n], rtol=1e-3)
        np.testing.assert_allclose(numbers(shown["v̂ (running mean of ∇²)"]), v_hat[:n], rtol=1e-3)
        np.testing.assert_allclose(numbers(shown["Δ = −lr · m̂ / (√v̂ + ε)"]), delta[:n],
                                   rtol=1e-3, atol=1e-9)
        # and Δ is exactly what moved the stored parameters from this step to the next
        np.testing.assert_allclose(after[name][r] - before[name][r], delta, rtol=1e-3, atol=1e-7)
        assert w["row_norm"] == pytest.approx(np.linalg.norm(delta), rel=1e-3)
        assert w["matrix_norm"] == pytest.approx(np.linalg.norm(after[name] - before[name]),
                                                 rel=1e-3)


def test_the_update_fragment_reads_as_a_sentence(client, student, run):
    step, pos = 2, 3
    client.force_login(student)
    total = len(OpView(run, step, pos).order)
    page = client.get(reverse("runs:opview", args=[run.pk, step, pos]) + f"?op={total}")
    html = page.content.decode()
    assert "Apply the update" in html
    update_url = reverse("runs:opview_update", args=[run.pk, step, pos])
    assert f'hx-get="{update_url}"' in html
    html = client.get(update_url).content.decode()
    assert re.search(r"p\(“<span class=\"mono\">.+?</span>”\) (rose|fell) from", html)
    assert "This token alone" in html and "The whole step" in html
    assert html.count('class="op-update-weight"') == len(OpView(run, step, pos).trace.tape.params())


def test_a_run_whose_text_changed_or_went_says_the_step_cannot_be_recomputed(
    client, student, run, pack
):
    client.force_login(student)
    update_url = reverse("runs:opview_update", args=[run.pk, 2, 3])
    pack.text = pack.text.replace("1", "7")  # edited since: replaying gives other weights
    pack.save()
    html = client.get(update_url).content.decode()
    assert "did not give the parameters stored" in html
    Run.objects.filter(pk=run.pk).update(pack=None)  # and gone
    html = client.get(update_url).content.decode()
    assert "no longer available" in html


def test_a_step_is_replayed_once_for_every_token_of_it(run, pack, monkeypatch):
    calls = []
    real = update_module.replayed
    monkeypatch.setattr(update_module, "replayed",
                        lambda *args: calls.append(args[2]) or real(*args))
    update_module.REPLAYS.clear()
    first = apply_update(OpView(run, 3, 4))["update"]
    assert apply_update(OpView(run, 3, 2))["update"]["lr"] == first["lr"]
    assert apply_update(OpView(run, 3, 4))["update"] == first  # the same numbers, cached
    assert calls == [3]
    apply_update(OpView(run, 2, 1))
    assert calls == [3, 2]
    assert update_module.REPLAYS.bytes == sum(
        update_module.replay_nbytes(step) for step in update_module.REPLAYS.models.values())
    # an edited text is replayed afresh (and no longer matches the stored parameters)
    pack.text = pack.text.replace("1", "7")
    pack.save()
    assert "update_error" in apply_update(OpView(run, 3, 4))
    assert calls == [3, 2, 3]
