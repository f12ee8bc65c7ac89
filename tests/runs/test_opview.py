"""runs/opview/: the op view of one token, its backward stepping, its fragments, and who
may see it."""

import base64
import io
import re

import numpy as np
import pytest
from django.core.management import call_command
from django.http import HttpRequest
from django.urls import reverse

from engine import GPT, GPTConfig, trace_token
from runs.models import Run
from runs.opview.heatmaps import heatmap
from runs.opview.trace import OpView
from runs.opview.weights import weights_panel
from runs.training import train_run
from tests.conftest import PASSWORD

TWO_LAYERS = {"n_layer": 2, "num_steps": 6, "snapshot_interval": 2}


@pytest.fixture
def run(student, start_run, classroom):
    """A finished 2-layer run of `student`, not shared with the classroom."""
    run = start_run(student, **TWO_LAYERS)
    assert train_run(run.pk, "test-worker")
    return Run.objects.get(pk=run.pk)


def engine_grads(run, step, pos):
    """The engine's own answer: loss_and_grads of tokens[:pos + 2] at position pos only,
    with the parameters stored for `step`."""
    params = run.params_at(step)
    c = run.config
    model = GPT(GPTConfig(run.vocab_size, c["n_embd"], c["n_head"], c["n_layer"], c["block_size"]))
    for name, value in params.items():
        model.params[name][...] = value
    snap = run.snapshot(step)
    tokens = [*snap["tokens"], snap["targets"][-1]]
    return model.loss_and_grads(tokens[: pos + 2], positions=[pos])


def url(run, step, pos, **query):
    base = reverse("runs:opview", args=[run.pk, step, pos])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def login(client, user):
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    return client


def test_the_trace_uses_the_stored_parameters_and_matches_the_engine(run):
    step = run.snapshot_steps()[-1]
    pos = 4
    loss, grads = engine_grads(run, step, pos)
    view = OpView(run, step, pos)
    assert view.trace.loss == pytest.approx(loss, rel=1e-6)
    shown = view.trace.param_grads()
    assert set(shown) == set(grads)
    for name, grad in grads.items():
        np.testing.assert_allclose(shown[name], grad, rtol=1e-5, atol=1e-7)


@pytest.mark.services  # JSON key lookups and the checkpoint blob on PostgreSQL too
def test_the_gradient_norms_on_the_page_equal_the_engines(client, student, run):
    step = run.snapshot_steps()[1]
    pos = 3
    _, grads = engine_grads(run, step, pos)
    view = OpView(run, step, pos)
    total = len(view.order)
    html = login(client, student).get(url(run, step, pos, op=total)).content.decode()
    for name, grad in grads.items():
        node = next(n for n in view.trace.tape.params() if n.name == name)
        match = re.search(rf'id="opnode-{node.id}"[^>]*data-grad-norm="([^"]+)"', html)
        assert match, name
        assert float(match.group(1)) == pytest.approx(np.linalg.norm(grad), rel=1e-4)
        # the weights panel shows the same norm for this token
        row = re.search(
            rf'data-weight="{re.escape(name)}".*?class="mono token-norm">([^<]+)<', html, re.S
        )
        assert float(row.group(1)) == pytest.approx(np.linalg.norm(grad), rel=1e-3)


def test_the_first_state_has_no_gradients_and_says_so(client, student, run):
    step = run.snapshot_steps()[0]
    response = login(client, student).get(url(run, step, 2))
    assert response.status_code == 200
    html = response.content.decode()
    assert "a graph drawn before backward has none" in html
    assert "Backward has not reached a weight yet" in html
    assert 'class="opnode st-current' not in html
    assert 'data-done=""' in html
    assert "st-done" not in html
    # the text so far begins with BOS, marked as on the run page's token strip
    assert re.search(r'<code class="op-context"[^>]*><span class="bos">BOS</span>[^<]', html)


def test_step_walks_the_backward_order_and_shows_the_rule_and_gradients(client, student, run):
    step = run.snapshot_steps()[-1]
    pos = 4
    view = OpView(run, step, pos)
    login(client, student)
    for k, node_id in enumerate(view.order, start=1):
        response = client.get(url(run, step, pos, op=k), HTTP_HX_REQUEST="true")
        html = response.content.decode()
        assert response.status_code == 200
        assert "<html" not in html  # a fragment
        assert f'data-current="{node_id}"' in html
        assert f'<strong id="op-count">{k}</strong>' in html
        node = view.trace.nodes[node_id]
        upstream = float(re.search(r'id="op-upstream-norm">([^<]+)<', html).group(1))
        assert upstream == pytest.approx(np.linalg.norm(node.grad), rel=1e-3)
        if node.op == "softmax":
            assert "dx = y ⊙ (dy − Σ" in html
            assert "Σⱼ y·dy" in html
        if node.backward is not None:  # the gradient passed to each input, with its norm
            passed = node.backward(node.grad)
            for inp, g in zip(node.inputs, passed, strict=True):
                if g is None:
                    continue
                shown = re.search(rf'class="op-input-norm" data-node="{inp.id}">([^<]+)<', html)
                assert float(shown.group(1)) == pytest.approx(np.linalg.norm(g), rel=1e-3)
    # the out-of-band pieces come along
    assert 'id="op-controls"' in html and 'id="op-state"' in html and 'id="op-weights"' in html
    # and the scalars and the update of an earlier op go
    assert html.count('hx-swap-oob="true"') == 6


def test_op_is_clamped_and_back_and_reset_point_backwards(client, student, run):
    step = run.snapshot_steps()[-1]
    total = len(OpView(run, step, 1).order)
    login(client, student)
    html = client.get(url(run, step, 1, op=999)).content.decode()
    assert f'<strong id="op-count">{total}</strong>' in html
    assert re.search(r'id="op-step"[^>]*disabled', html)
    assert f"?op={total - 1}" in html and "?op=0" in html
    html = client.get(url(run, step, 1, op=-4)).content.decode()
    assert '<strong id="op-count">0</strong>' in html


def test_every_node_with_a_gradient_jumps_to_its_place_in_backward_order(client, student, run):
    step = run.snapshot_steps()[-1]
    view = OpView(run, step, 2)
    html = login(client, student).get(url(run, step, 2)).content.decode()
    for bi, node_id in enumerate(view.order):
        match = re.search(rf'id="opnode-{node_id}"[^>]*data-bi="(\d+)"[^>]*hx-get="([^"]+)"', html)
        assert int(match.group(1)) == bi
        assert match.group(2).endswith(f"?op={bi + 1}")
    assert html.count('class="opnode ') == len(view.trace.nodes)


def test_every_move_replaces_the_address_and_adds_no_history(client, student, run):
    # Step, Back, Reset, each node and the head picker: the op is in the URL (a reload shows
    # it), but the browser's Back button leaves the page instead of undoing one op
    step = run.snapshot_steps()[-1]
    pos = 4
    view = OpView(run, step, pos)
    weights = next(n for n in view.trace.nodes if n.name == "attention weights")
    k = view.order.index(weights.id) + 1
    html = login(client, student).get(url(run, step, pos, op=k)).content.decode()
    moves = re.findall(r'<(?:button|g) [^>]*hx-target="#op-side"[^>]*>', html)
    assert len(moves) == 3 + view.trace.n_head + len(view.order)
    assert all('hx-replace-url="true"' in tag for tag in moves)
    assert "hx-push-url" not in html


def test_weights_panel_lists_this_tokens_and_the_steps_gradient(client, student, run):
    step = run.snapshot_steps()[-1]
    pos = 5
    view = OpView(run, step, pos, op=10_000)
    context = weights_panel(view)
    rows = {w["name"]: w for w in context["weights"]}
    assert set(rows) == set(view.trace.param_grads())
    snap = run.snapshot(step)
    tokens = [*snap["tokens"], snap["targets"][-1]]
    _, step_grads = view.model.loss_and_grads(tokens)
    for name, row in rows.items():
        assert row["step_norm"] == pytest.approx(np.linalg.norm(step_grads[name]), rel=1e-6)
        token_grad, step_grad = view.trace.param_grads()[name].ravel(), step_grads[name].ravel()
        cos = token_grad @ step_grad / np.linalg.norm(token_grad) / np.linalg.norm(step_grad)
        assert row["alignment"] == pytest.approx(cos, rel=1e-4, abs=1e-6)
        # the stored per-group step gradient norm agrees with the recomputed one
        assert row["group_grad_norm"] is not None
        assert row["group_update_norm"] is not None
    groups = {}
    for row in rows.values():
        groups.setdefault(row["group"], []).append(row["step_norm"] ** 2)
    for group, squares in groups.items():
        stored = next(r["group_grad_norm"] for r in rows.values() if r["group"] == group)
        assert np.sqrt(sum(squares)) == pytest.approx(stored, rel=1e-3)
    response = login(client, student).get(
        reverse("runs:opview_weight", args=[run.pk, step, pos, "layer1.mlp_fc1"])
    )
    assert response.status_code == 200
    assert 'data-weight="layer1.mlp_fc1"' in response.content.decode()
    missing = reverse("runs:opview_weight", args=[run.pk, step, pos, "layer9.nope"])
    assert client.get(missing).status_code == 404


def test_a_node_expands_to_exact_scalars_and_attention_to_its_dot_products(client, student, run):
    step = run.snapshot_steps()[-1]
    pos = 4
    view = OpView(run, step, pos)
    weights = next(n for n in view.trace.nodes if n.name == "attention weights" and n.layer == 1)
    login(client, student)
    base = reverse("runs:opview_scalars", args=[run.pk, step, pos, weights.id])
    html = client.get(f"{base}?head=1&op=0").content.decode()
    assert 'id="op-scalars-view"' in html
    assert "q·k" in html
    assert "backward has not reached it yet" in html
    row = weights.value[1, -1]
    for j in range(pos + 1):
        assert f"{row[j]:.4g}" in html
    q = next(n for n in view.trace.nodes if n.name == "query heads" and n.layer == 1).value
    k = next(n for n in view.trace.nodes if n.name == "key heads" and n.layer == 1).value
    assert f"{float(np.dot(q[1, -1], k[1, 0])):.4g}" in html
    html = client.get(f"{base}?head=1&op={len(view.order)}").content.decode()
    assert "<th>gradient</th>" in html
    assert (
        client.get(reverse("runs:opview_scalars", args=[run.pk, step, pos, 999])).status_code == 404
    )


def engine_trace(run, step, pos):
    """engine.trace_token of the stored parameters, independent of the view."""
    params = run.params_at(step)
    c = run.config
    model = GPT(GPTConfig(run.vocab_size, c["n_embd"], c["n_head"], c["n_layer"], c["block_size"]))
    for name, value in params.items():
        model.params[name][...] = value
    snap = run.snapshot(step)
    return trace_token(model, [*snap["tokens"], snap["targets"][-1]], pos)


def numbers_row(html, name):
    """The shown values of one row of "The numbers it used", as floats."""
    cell = re.search(rf'<th scope="row">{re.escape(name)}</th><td class="mono">([^<]*)', html)
    assert cell, name
    return [float(v) for v in cell.group(1).split()]


def test_the_side_panel_shows_the_chosen_head_of_an_attention_op(client, student, run):
    step = run.snapshot_steps()[-1]
    pos = 4
    trace = engine_trace(run, step, pos)
    view = OpView(run, step, pos)
    weights = next(n for n in trace.nodes if n.name == "attention weights" and n.layer == 1)
    assert weights.heads and trace.n_head == 2
    k = view.order.index(weights.id) + 1
    login(client, student)
    pages = {
        head: client.get(url(run, step, pos, op=k, head=head), HTTP_HX_REQUEST="true")
        for head in (0, 1)
    }
    html = pages[1].content.decode()
    assert pages[1].status_code == 200 and f'data-current="{weights.id}"' in html
    # the picker: head 1 pressed, each button re-requests this op with its head
    assert re.search(r'data-head="1"\s+aria-pressed="true"', html)
    assert re.search(r'data-head="0"\s+aria-pressed="false"', html)
    assert f'hx-get="{url(run, step, pos, op=k)}"' in html  # head 0 is the plain URL
    assert f'hx-get="{url(run, step, pos, op=k, head=1).replace("&", "&amp;")}"' in html
    assert "(the token's row, head 1)" in html
    # the numbers are head 1's row of the engine's trace (and not head 0's)
    y, dy = weights.value[:, -1], weights.grad[:, -1]
    shown_y = numbers_row(html, f"y: {weights.label}")
    np.testing.assert_allclose(shown_y, y[1], rtol=1e-3, atol=1e-6)
    assert not np.allclose(shown_y, y[0], rtol=1e-3)
    np.testing.assert_allclose(numbers_row(html, "dy (upstream)"), dy[1], rtol=1e-3, atol=1e-9)
    scores = weights.inputs[0]
    np.testing.assert_allclose(
        numbers_row(html, f"x: {scores.label}")[: pos + 1],
        scores.value[1, -1, : pos + 1],
        rtol=1e-3,
    )
    (passed,) = weights.backward(weights.grad)
    np.testing.assert_allclose(
        numbers_row(html, f"dx → {scores.label}"), passed[1, -1], rtol=1e-3, atol=1e-9
    )
    # the worked value of the softmax rule and the gradient norms follow the head
    worked = float((weights.value[1, -1] * weights.grad[1, -1]).sum())
    fact = re.search(r"<dt>head 1: Σⱼ y·dy</dt><dd class=\"mono\">([^<]+)<", html)
    assert float(fact.group(1)) == pytest.approx(worked, rel=1e-3, abs=1e-9)
    assert "head 0: Σⱼ y·dy" not in html
    head_norm = float(re.search(r'id="op-upstream-head-norm">([^<]+)<', html).group(1))
    assert head_norm == pytest.approx(np.linalg.norm(weights.grad[1]), rel=1e-3)
    total = float(re.search(r'id="op-upstream-norm">([^<]+)<', html).group(1))
    assert total == pytest.approx(np.linalg.norm(weights.grad), rel=1e-3)
    passed_norm = re.search(rf'class="op-input-head-norm" data-node="{scores.id}">([^<]+)<', html)
    assert float(passed_norm.group(1)) == pytest.approx(np.linalg.norm(passed[1]), rel=1e-3)
    # the heatmaps are head 1's alone: one panel, its scale head 1's largest |dy|
    maps = re.findall(r'data-src="([^"]+)" data-scale="([^"]+)"[^>]*data-what="dy · head 1"', html)
    assert maps and maps[0][0] == f"1 {pos + 1} {pos + 1}"
    assert float(maps[0][1]) == pytest.approx(np.abs(weights.grad[1]).max(), rel=1e-3)
    # the choice is kept by Step, Back and the scalars, and Reset drops it
    assert f"?op={k + 1}&amp;head=1" in html and f"?op={k - 1}&amp;head=1" in html
    assert f"/nodes/{weights.id}/?op={k}&amp;head=1" in html
    assert re.search(r'id="op-reset"[^>]*hx-get="[^"]*\?op=0"', html)
    # head 0 (the default) shows head 0's row
    html0 = pages[0].content.decode()
    assert "(the token's row, head 0)" in html0
    np.testing.assert_allclose(numbers_row(html0, f"y: {weights.label}"), y[0], rtol=1e-3)


def test_merge_heads_shows_the_columns_of_the_chosen_head(client, student, run):
    step = run.snapshot_steps()[-1]
    pos = 3
    view = OpView(run, step, pos)
    merged = next(n for n in view.trace.nodes if n.name == "merged heads" and n.layer == 0)
    k = view.order.index(merged.id) + 1
    html = login(client, student).get(url(run, step, pos, op=k, head=1)).content.decode()
    d = merged.inputs[0].value.shape[-1]
    y = numbers_row(html, f"y: {merged.label} [cols {d}–{2 * d - 1}]")
    np.testing.assert_allclose(y, merged.value[-1, d : 2 * d], rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(y, merged.inputs[0].value[1, -1], rtol=1e-3, atol=1e-6)
    assert f'head 1 = columns</dt><dd class="mono">{d} … {2 * d - 1}' in html


@pytest.mark.parametrize(
    ("head", "shown", "note"),
    [
        ("-1", 0, "There is no head -1: this model has heads 0 … 1. Showing head 0."),
        ("7", 1, "There is no head 7: this model has heads 0 … 1. Showing head 1."),
        ("x%3Cb%3E", 0, "“x&lt;b&gt;” is not a head number: showing head 0."),
    ],
)
def test_a_head_that_is_not_one_is_clamped_with_a_note(client, student, run, head, shown, note):
    step = run.snapshot_steps()[-1]
    view = OpView(run, step, 2)
    weights = next(n for n in view.trace.nodes if n.name == "attention weights")
    k = view.order.index(weights.id) + 1
    login(client, student)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):  # the page and the fragment
        response = client.get(url(run, step, 2, op=k, head=head), **headers)
        html = response.content.decode()
        assert response.status_code == 200
        assert note in html
        assert re.search(rf'data-head="{shown}"\s+aria-pressed="true"', html)
        assert f"(the token's row, head {shown})" in html
    # an op that is not over heads ignores the head: no picker, no note
    html = client.get(url(run, step, 2, op=1, head="7")).content.decode()
    assert "op-head-pick" not in html and "There is no head" not in html


def test_a_one_head_model_has_no_head_picker(client, student, start_run):
    one = start_run(student, n_head=1, num_steps=2, snapshot_interval=1)
    assert train_run(one.pk, "test-worker")
    one = Run.objects.get(pk=one.pk)
    step = one.snapshot_steps()[-1]
    view = OpView(one, step, 2)
    weights = next(n for n in view.trace.nodes if n.name == "attention weights")
    k = view.order.index(weights.id) + 1
    html = login(client, student).get(url(one, step, 2, op=k, head=3)).content.decode()
    assert "op-head-pick" not in html and "op-upstream-head-norm" not in html
    assert "(the token's row, head 0)" in html


def test_unknown_step_or_position_is_404(client, student, run):
    login(client, student)
    assert client.get(url(run, 5, 0)).status_code == 404  # no snapshot at step 5
    step = run.snapshot_steps()[0]
    assert client.get(url(run, step, 99)).status_code == 404


def test_heatmaps_are_compact_keep_the_token_row_and_mark_masked_cells():
    a = np.arange(40 * 64, dtype=np.float64).reshape(40, 64) - 1000
    a[-1] = np.linspace(-1, 1, 64)
    hm = heatmap(a, cells=512)
    h, r, c = map(int, hm["shape"].split())
    assert (h, r, c) == (1, 8, 64) and hm["src"] == "1 40 64" and hm["keep_last"] == 1
    q = np.frombuffer(base64.b64decode(hm["data"]), np.int8).reshape(r, c)
    scale = float(hm["scale"])
    assert scale == pytest.approx(np.abs(a).max(), rel=1e-3)
    np.testing.assert_allclose(q[-1] / 127 * scale, a[-1], atol=scale / 127)
    masked = np.where(np.tri(4, dtype=bool), np.ones((2, 4, 4)), -np.inf)
    hm = heatmap(masked)
    q = np.frombuffer(base64.b64decode(hm["data"]), np.int8).reshape(2, 4, 4)
    assert (q[:, 0, 1:] == -128).all() and (q[:, 3] == 127).all()


ROUTES = ("page", "fragment", "scalars", "weight", "chain", "update")


def route_url(run, which):
    step = run.snapshot_steps()[-1]
    if which == "page":
        return url(run, step, 1)
    if which == "fragment":
        return url(run, step, 1, op=3)
    if which == "scalars":
        return reverse("runs:opview_scalars", args=[run.pk, step, 1, 5])
    if which == "chain":
        return reverse("runs:opview_chain", args=[run.pk, step, 1, 5]) + "?op=999&i=0"
    if which == "update":
        return reverse("runs:opview_update", args=[run.pk, step, 1])
    return reverse("runs:opview_weight", args=[run.pk, step, 1, "wte"])


@pytest.mark.services
@pytest.mark.parametrize("which", ROUTES)
def test_who_may_see_the_op_view(client, run, which, student, classmate, instructor, outsider):
    target = route_url(run, which)
    headers = {"HTTP_HX_REQUEST": "true"} if which == "fragment" else {}
    expected = {student: 200, classmate: 404, instructor: 200, outsider: 404}
    for user, status in expected.items():
        client.logout()
        login(client, user)
        assert client.get(target, **headers).status_code == status, user.username
    client.logout()
    response = client.get(target, **headers)
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("which", ROUTES)
def test_a_run_shared_with_the_classroom_is_open_to_classmates(
    client, run, classroom, which, classmate, outsider
):
    Run.objects.filter(pk=run.pk).update(classroom=classroom)
    target = route_url(run, which)
    assert login(client, classmate).get(target).status_code == 200
    client.logout()
    assert login(client, outsider).get(target).status_code == 404


def test_the_adam_update_per_matrix_is_the_change_to_the_next_steps_parameters(run):
    # snapshots at steps 1 and 2: the update step 1 applied is params(2) - params(1)
    assert run.snapshot_steps()[:2] == [1, 2]
    view = OpView(run, 1, 3, op=10_000)
    context = weights_panel(view)
    assert context["updates_per_matrix"]
    before, after = run.params_at(1), run.params_at(2)
    groups = {}
    for row in context["weights"]:
        change = np.linalg.norm(after[row["name"]] - before[row["name"]])
        assert row["update_norm"] == pytest.approx(change, rel=1e-4)  # stored to 5 digits
        groups.setdefault(row["group"], []).append(change**2)
    for row in context["weights"]:  # and agrees with the stored per-group update norm
        assert np.sqrt(sum(groups[row["group"]])) == pytest.approx(
            row["group_update_norm"], rel=1e-3
        )
    # a step with neither the next parameters nor stored norms falls back to the group's
    last = run.snapshot_steps()[-1]
    event = run.events.get(kind="snapshot", step=last)
    del event.data["param_update_norms"]
    event.save()
    assert not weights_panel(OpView(run, last, 3, op=10_000))["updates_per_matrix"]


def test_per_matrix_update_norms_stored_with_the_snapshot_are_used(run):
    step = run.snapshot_steps()[-1]
    event = run.events.get(kind="snapshot", step=step)
    event.data["param_update_norms"] = {"wte": 0.125, "lm_head": 0.5}
    event.save()
    rows = {w["name"]: w for w in weights_panel(OpView(run, step, 2, op=10_000))["weights"]}
    assert rows["wte"]["update_norm"] == 0.125 and rows["lm_head"]["update_norm"] == 0.5


def test_bench_opview_prints_render_time_and_html_size_last(db):
    out = io.StringIO()
    call_command("bench_opview", repeat=1, stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    match = re.fullmatch(r"render_ms=(\d+) html_kb=(\d+)", last)
    assert match, last
    assert int(match.group(2)) <= 300  # the size is deterministic; time depends on the machine
    assert not Run.objects.exists()  # the throwaway run is rolled back


def test_opening_the_op_view_counts_in_the_lesson_funnel(client, student, instructor, run):
    from classrooms.models import FunnelEvent
    from common.funnel import OPENED_OP_VIEW

    def openers():
        events = FunnelEvent.objects.filter(stage=OPENED_OP_VIEW)
        return sorted(events.values_list("user__username", flat=True))

    step = run.snapshot_steps()[-1]
    login(client, instructor)  # the instructor opening it is not the student's progress
    assert client.get(url(run, step, 1)).status_code == 200
    assert openers() == ["instructor"]
    login(client, student)
    assert client.get(url(run, step, 1)).status_code == 200
    assert client.get(url(run, step, 2), HTTP_HX_REQUEST="true").status_code == 200
    assert client.get(url(run, step, 2)).status_code == 200
    assert openers() == ["instructor", "student"]  # once per person


def test_wording_zero_ids_wpe_and_what_p_is(client, student, run):
    step, pos = run.snapshot_steps()[-1], 3
    view = OpView(run, step, pos)
    total = len(view.order)
    login(client, student)
    by_name = {n.name: n for n in view.trace.nodes}
    scalars = reverse("runs:opview_scalars", args=[run.pk, step, pos, 0])[: -len("0/")]
    # integer ids: no gradient ever, said so after the whole backward pass too
    html = client.get(f"{scalars}{by_name['input tokens'].id}/?op={total}").content.decode()
    assert "Integer ids never get a gradient" in html and "not reached" not in html
    # wpe shows the position's row, as wte shows the token's
    wpe = by_name["wpe"]
    html = client.get(f"{scalars}{wpe.id}/?op={total}").content.decode()
    assert f"row {pos} (position {pos})" in html
    assert html.count("op-chain-link") == run.config["n_embd"]
    for j, value in enumerate(np.asarray(wpe.value[pos], np.float64)[:3]):
        assert f"<tr><td>{j}</td><td class=\"mono\">{value:.4g}</td>" in html
    # cross-entropy's P is explained; no gradient prints as "-0"
    loss_k = view.order.index(view.trace.nodes[-1].id) + 1
    html = client.get(url(run, step, pos, op=loss_k), HTTP_HX_REQUEST="true").content.decode()
    assert "P is the number of positions" in html
    for k in (1, 2, total):
        html = client.get(url(run, step, pos, op=k), HTTP_HX_REQUEST="true").content.decode()
        assert not re.search(r"[\s>]-0[\s<]", html)
