"""runs/lenses/views.py: the lenses page and its embedding-map fragment: what they show
(checked against the engine), bad input, and who may see them."""

import re
from urllib.parse import urlencode

import numpy as np
import pytest
from django.urls import reverse

from engine import Vocab
from runs.lenses.inputs import default_text, model_for
from runs.models import Run
from runs.training import train_run

TWO_LAYERS = {"n_layer": 2, "num_steps": 8, "snapshot_interval": 4}


@pytest.fixture
def run(student, start_run):
    """A finished 2-layer run of `student`, not shared with the classroom."""
    run = start_run(student, **TWO_LAYERS)
    assert train_run(run.pk, "test-worker")
    return Run.objects.get(pk=run.pk)


def login(client, user):
    client.force_login(user)
    return client


def page(run, **query):
    url = reverse("runs:lenses", args=[run.pk])
    pairs = [(k, v) for k, values in query.items() for v in (values if isinstance(values, list)
                                                             else [values])]
    return url + ("?" + urlencode(pairs) if pairs else "")


def number(html, element_id):
    return float(re.search(rf'id="{element_id}">([^<]+)<', html).group(1))


@pytest.mark.services  # the checkpoints' blobs and the step events' JSON on PostgreSQL too
def test_the_page_reads_the_stored_model_at_the_newest_step(client, student, run):
    response = login(client, student).get(page(run, text="1+2=3", pos=3))
    assert response.status_code == 200
    html = response.content.decode().replace("&#x27;", "'")
    steps = run.snapshot_steps()
    assert f'name="step" id="lens-step" value="{steps[-1]}"' in html
    # the model's own score for the target, from the engine here
    model = model_for(run, steps[-1])
    tokens = Vocab(run.vocab).encode("1+2=3")
    logits = model.logits(tokens[:-1])
    assert number(html, "lens-logit") == pytest.approx(logits[3, tokens[4]], abs=1e-3)
    assert number(html, "lens-contrib-sum") == pytest.approx(logits[3, tokens[4]], abs=2e-3)
    # five rungs for two layers, one strip button per position
    for rung in ("the embeddings", "layer 0's attention", "layer 0's MLP", "layer 1's attention",
                 "layer 1's MLP"):
        assert f"decided at {rung}" in html
    assert html.count('class="lens-char') == 6
    assert "Switch off (ablation)" in html and 'value="h1.1"' in html
    assert "When each head took its role" in html and "layer 1 · head 1" in html
    assert f'hx-get="/runs/{run.pk}/lenses/map/"' in html


def test_it_opens_on_the_default_text_and_any_stored_step(client, student, run):
    html = login(client, student).get(page(run, step=1)).content.decode()
    assert f'value="{default_text(run)}"' in html
    assert 'name="step" id="lens-step" value="1"' in html


def test_an_htmx_change_gets_the_reading_with_the_ablation(client, student, run):
    response = login(client, student).get(
        page(run, text="3+4=7", off=["h0.1", "mlp1"], pos=2), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert html.startswith('\n  <div id="lens-reading"') or 'id="lens-reading"' in html[:80]
    assert "Switched off: <strong>h0.1, mlp1</strong>" in html
    # the mean loss before, against the engine's loss on the same text
    model = model_for(run, run.snapshot_steps()[-1])
    tokens = Vocab(run.vocab).encode("3+4=7")
    loss, _ = model.loss_and_grads(tokens)
    assert number(html, "lens-loss-before") == pytest.approx(loss, abs=1e-3)
    assert number(html, "lens-loss-after") != number(html, "lens-loss-before")
    assert "lines of the run's text" in html


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ({"text": "ABC"}, 400, "never saw these characters"),
        ({"text": "1" * 16}, 400, "reads at most 16 at once"),
        ({"text": ""}, 400, "Type at least one character"),
        ({"step": "soon"}, 400, "step must be a whole number"),
        ({"pos": "x"}, 400, "pos must be a whole number"),
        ({"step": 3}, 404, "No model is stored for step 3"),
        ({"off": "h5.0"}, 400, "is not a part of this model"),
    ],
)
def test_bad_input_says_what_to_try(client, student, run, query, status, says):
    for htmx in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = login(client, student).get(page(run, **query), **htmx)
        assert response.status_code == status
        assert says in response.content.decode().replace("&#x27;", "'")


def test_a_position_out_of_range_is_clamped(client, student, run):
    html = login(client, student).get(page(run, text="1+1=2", pos=99)).content.decode()
    assert 'name="pos" id="lens-pos" value="5"' in html


def test_a_run_with_no_stored_model_says_so(client, student, start_run):
    queued = start_run(student)
    response = login(client, student).get(page(queued))
    assert response.status_code == 404
    assert "No model is stored for this run yet" in response.content.decode()
    fragment = client.get(reverse("runs:lens_map", args=[queued.pk])).content.decode()
    assert "No model is stored for this run yet" in fragment


@pytest.mark.services
def test_the_map_fragment_carries_every_stored_step(client, student, run):
    response = login(client, student).get(reverse("runs:lens_map", args=[run.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and 'id="lens-map-svg"' in html
    assert "&quot;steps&quot;: [1, 4, 8]" in html


URLS = {
    "page": lambda run: page(run),
    "map": lambda run: reverse("runs:lens_map", args=[run.pk]),
}


@pytest.mark.parametrize("which", sorted(URLS))
def test_who_may_see_the_lenses(client, run, which, student, classmate, instructor, outsider,
                                classroom):
    target = URLS[which](run)
    expected = {student: 200, classmate: 404, instructor: 200, outsider: 404}
    for user, status in expected.items():
        assert login(client, user).get(target).status_code == status, user.username
        client.logout()
    response = client.get(target)  # anonymous
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("which", sorted(URLS))
def test_a_run_shared_with_the_classroom_is_open_to_classmates(client, run, classroom, which,
                                                               classmate, outsider):
    Run.objects.filter(pk=run.pk).update(classroom=classroom)
    target = URLS[which](run)
    assert login(client, classmate).get(target).status_code == 200
    client.logout()
    assert login(client, outsider).get(target).status_code == 404


def test_the_run_page_links_to_the_lenses(client, student, run):
    html = login(client, student).get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert reverse("runs:lenses", args=[run.pk]) in html


def test_the_playground_links_to_the_lenses(client, student, run):
    html = login(client, student).get(reverse("runs:playground", args=[run.pk])).content.decode()
    assert reverse("runs:lenses", args=[run.pk]) in html


def test_nothing_is_stored_by_reading(client, student, run):
    before = (run.events.count(), run.checkpoints.count())
    login(client, student).get(page(run, text="2+2=4", off="attn0"))
    assert (run.events.count(), run.checkpoints.count()) == before
    assert np.isfinite(run.final_loss)
