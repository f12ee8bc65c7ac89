"""The new-run form's probe line (typed text: stored; bad text: an inline error and no run),
its block-size warning before submitting, and links that prefill a suggested change."""

from django.urls import reverse

from runs.models import Run
from tests.runs.conftest import TINY

URL = reverse("runs:new")


def post(client, pack, **overrides):
    return client.post(URL, {"pack": pack.slug, **TINY, **overrides})


def test_a_typed_probe_line_is_stored_with_the_run(client, student, pack):
    client.force_login(student)
    response = post(client, pack, probe_text="7+8=15")
    assert response.status_code == 302
    assert Run.objects.get().config["probe_text"] == "7+8=15"


def test_an_empty_probe_line_leaves_the_choice_to_the_seed(client, student, pack):
    client.force_login(student)
    post(client, pack, probe_text="   ")
    assert "probe_text" not in Run.objects.get().config


def test_bad_probe_lines_are_inline_errors_and_nothing_is_created(client, student, pack):
    client.force_login(student)
    cases = {
        "1+1=2" * 4: "The probe line has 20 characters; the block size (16)",
        "7*8=56": "These characters are not in the text it trains on: &#x27;*&#x27;.",
    }
    for text, message in cases.items():
        response = post(client, pack, probe_text=text)
        assert response.status_code == 400
        html = response.content.decode()
        assert 'id="id_probe_text_error"' in html and message in html, text
    assert not Run.objects.exists()


def test_the_form_warns_when_the_block_size_cuts_lines(client, student, pack):
    client.force_login(student)
    response = client.get(URL, {"pack": pack.slug, "block_size": "4"})
    html = response.content.decode()
    # tiny-sums lines are 5 or 6 characters ("1+2=3", "9+9=18")
    assert "Block size 4 cuts 100 of 100 lines: the model never sees their ends." in html
    assert 'data-line-lengths="[[5, 55], [6, 45]]"' in html
    response = client.get(URL, {"pack": pack.slug, "block_size": "7"})
    assert "cuts" not in response.content.decode().split('id="block-warning"')[1][:200]


def test_a_what_to_try_link_prefills_the_change(client, student, pack):
    client.force_login(student)
    response = client.get(URL, {"pack": pack.slug, "learning_rate": "0.001", "seed": "3",
                                "probe_text": "2+2=4"})
    form = response.context["form"]
    assert form["learning_rate"].value() == "0.001" and form["seed"].value() == "3"
    assert form["n_embd"].value() == TINY["n_embd"]  # the rest as recommended
    assert 'value="2+2=4"' in response.content.decode()
