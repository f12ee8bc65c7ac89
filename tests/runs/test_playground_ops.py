"""runs/playground_ops.py: the op view opened on a position of the student's own text."""

import re

import numpy as np
import pytest
from django.urls import reverse

from engine import GPT, GPTConfig
from runs.models import Run
from runs.opview.trace import OpView
from runs.playground_model import stored_steps
from runs.playground_ops import OwnTextConverter, own_text_at
from tests.runs.test_playground import get, login, trained

TEXT = "3+4=7"


@pytest.fixture
def run(student, start_run, classroom):
    """A finished 2-layer run of `student`, not shared with the classroom."""
    return trained(start_run, student)


def ops_url(run, step, text, pos, tail=""):
    return reverse("runs:playground_ops", args=[run.pk, step, text, pos]) + tail


def engine_answer(run, step, text, pos):
    """The engine's own loss and gradients for predicting text[pos] after BOS + text[:pos]."""
    c = run.config
    model = GPT(GPTConfig(run.vocab_size, c["n_embd"], c["n_head"], c["n_layer"], c["block_size"]))
    for name, value in run.params_at(step).items():
        model.params[name][...] = value
    ids = [len(run.vocab), *(run.vocab.index(ch) for ch in text)]
    return model.loss_and_grads(ids[: pos + 2], positions=[pos])


def test_the_trace_of_own_text_is_the_engines(run):
    step = stored_steps(run)[-1]
    for pos in (0, 3, len(TEXT) - 1):
        view = OpView(run, step, pos, own_text=own_text_at(run, step, TEXT))
        loss, grads = engine_answer(run, step, TEXT, pos)
        assert view.trace.loss == pytest.approx(loss, rel=1e-6)
        for name, grad in view.trace.param_grads().items():
            np.testing.assert_allclose(grad, grads[name], rtol=1e-5, atol=1e-7)


@pytest.mark.services  # PostgreSQL too
def test_the_page_names_the_text_and_its_links_work(client, student, run):
    step = stored_steps(run)[-1]
    login(client, student)
    # position 4 predicts the text's character 4, "7", after BOS + "3+4="
    page = client.get(ops_url(run, step, TEXT, 4)).content.decode()
    assert "How “<span class=\"mono\">=</span>” predicted “<span class=\"mono\">7</span>”" in page
    assert "of your own text" in page
    assert f'/runs/{run.pk}/playground/?step={step}&amp;text=3%2B4%3D7' in page
    done = client.get(ops_url(run, step, TEXT, 4, "?op=1000"), HTTP_HX_REQUEST="true")
    html = done.content.decode()
    assert "the model never trained on it. “The whole step” below is step" in html
    assert re.search(r'data-weight="wte"', html)
    # the node and weight fragments live under the same address
    assert client.get(ops_url(run, step, TEXT, 4, "nodes/0/?op=5")).status_code == 200
    assert client.get(ops_url(run, step, TEXT, 4, "weights/wte/?op=1000")).status_code == 200
    update = client.get(ops_url(run, step, TEXT, 4, "update/?op=1000"))
    assert update.status_code == 200 and "“7”" in update.content.decode()
    chain = client.get(ops_url(run, step, TEXT, 4, "nodes/0/chain/?op=1000&i=0"))
    assert chain.status_code == 200


def test_the_playgrounds_characters_point_to_it(client, student, run):
    step = stored_steps(run)[-1]
    response = get(login(client, student), "playground_predict", run, step=step, text=TEXT)
    base = re.search(r'class="pg-chars" data-ops="([^"]+)"', response.content.decode())[1]
    positions = re.findall(r'data-p="(\d+)"', response.content.decode())
    assert positions == [str(i) for i in range(len(TEXT))]
    assert client.get(f"{base}{positions[-1]}/ops/").status_code == 200
    assert base + "4/ops/" == ops_url(run, step, TEXT, 4)


@pytest.mark.parametrize(
    "where",
    ["unknown", "too long", "position", "step", "not base64"],
)
def test_a_text_or_place_the_model_cannot_read_is_not_found(client, student, run, where):
    step = stored_steps(run)[-1]
    target = {
        "unknown": ops_url(run, step, "1+x", 1),
        "too long": ops_url(run, step, "1" * 16, 1),
        "position": ops_url(run, step, TEXT, len(TEXT)),
        "step": ops_url(run, 5, TEXT, 1),
        "not base64": f"/runs/{run.pk}/steps/{step}/text/%25%25/tokens/1/ops/",
    }[where]
    assert login(client, student).get(target).status_code == 404


def test_the_converter_round_trips_any_text():
    converter = OwnTextConverter()
    for text in ("7+5=1", "a/b?c#d é ␣", "=" * 63):
        encoded = converter.to_url(text)
        assert re.fullmatch(converter.regex, encoded)
        assert converter.to_python(encoded) == text
    with pytest.raises(ValueError):
        converter.to_python("_w")  # not the base64 of UTF-8


def test_who_may_open_own_text_in_the_op_view(
    client, run, classroom, student, classmate, instructor, outsider
):
    target = ops_url(run, stored_steps(run)[-1], TEXT, 2)
    for user, status in {student: 200, classmate: 404, instructor: 200, outsider: 404}.items():
        assert login(client, user).get(target).status_code == status, user.username
    client.logout()
    response = client.get(target)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    Run.objects.filter(pk=run.pk).update(classroom=classroom)
    assert login(client, classmate).get(target).status_code == 200
