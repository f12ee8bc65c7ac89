"""/runs/new/: the form prefilled from the pack, inline errors from the engine's own
checks, nothing stored on error, and a queued, dispatched run on success."""

import pytest
from django.urls import reverse

from packs_app.models import Pack, Upload
from runs import workers
from runs.models import Kind, Run
from tests.runs.conftest import TINY

URL = reverse("runs:new")


def post(client, pack, htmx=False, **overrides):
    data = {"pack": pack.slug, **TINY, **overrides}
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(URL, data, **headers)


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_form_is_prefilled_with_the_packs_recommended_config(client, student, pack):
    pack.recommended_config = {**TINY, "num_steps": 123, "n_embd": 16}
    pack.save()
    client.force_login(student)
    response = client.get(URL, {"pack": pack.slug})
    assert response.status_code == 200
    form = response.context["form"]
    assert form["pack"].value() == pack.slug
    assert form["num_steps"].value() == 123 and form["n_embd"].value() == 16
    html = response.content.decode()
    assert pack.teaches in html
    assert "limit 4 – 64" in html  # n_embd
    assert "limit 1 – 2,000" in html  # num_steps
    assert "limit 0.00001 – 1" in html  # learning_rate
    assert "limit 0 – 4,294,967,295" in html  # seed


def test_pack_change_over_htmx_returns_the_form_partial(client, student, pack):
    client.force_login(student)
    response = client.get(URL, {"pack": pack.slug}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="run-form"')
    assert "<h1>" not in html


def test_unknown_pack_falls_back_to_the_first_offered(client, student, pack):
    client.force_login(student)
    response = client.get(URL, {"pack": "no-such-pack"})
    assert response.context["form"]["pack"].value() == pack.slug


def test_valid_post_starts_a_queued_run_and_dispatches_it(
    client, student, pack, django_capture_on_commit_callbacks, settings
):
    settings.LAB_WORKER_MODE = "embedded"
    client.force_login(student)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, pack)
    run = Run.objects.get(owner=student)
    assert response.status_code == 302
    assert response.url == reverse("runs:detail", args=[run.pk])
    assert run.status == Run.Status.QUEUED and run.pack == pack
    assert run.config == TINY and run.num_steps == TINY["num_steps"]
    assert list(run.events.values_list("seq", "kind")) == [(1, Kind.QUEUED)]
    assert run.dispatched_at is not None
    assert run.pk in list(workers._queue.queue)


def test_htmx_success_redirects_the_page(client, student, pack):
    client.force_login(student)
    response = post(client, pack, htmx=True)
    run = Run.objects.get(owner=student)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("runs:detail", args=[run.pk])


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("n_embd", 100, "n_embd must be between 4 and 64 (got 100)"),
        ("n_layer", 3, "n_layer must be between 1 and 2 (got 3)"),
        ("block_size", 65, "block_size must be between 1 and 64 (got 65)"),
        ("num_steps", 2001, "num_steps must be between 1 and 2000 (got 2001)"),
        ("n_head", 3, "n_head must divide n_embd (got n_head=3, n_embd=8)"),
        ("learning_rate", 5, "learning_rate must be between"),
        ("temperature", 0, "temperature must be between"),
        ("n_embd", "", "This field is required."),
        ("num_steps", "many", "Enter a whole number."),
    ],
)
def test_invalid_values_are_inline_errors_and_nothing_is_stored(
    client, student, pack, field, value, message
):
    client.force_login(student)
    response = post(client, pack, **{field: value})
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert f'id="id_{field}-error"' in response.content.decode()
    assert not Run.objects.exists()


def test_every_bad_field_is_flagged_at_once(client, student, pack):
    client.force_login(student)
    response = post(client, pack, n_layer=3, n_head=9, num_steps=0)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"n_layer", "n_head", "num_steps"}


def test_htmx_invalid_post_swaps_the_form_with_400(client, student, pack):
    client.force_login(student)
    response = post(client, pack, htmx=True, n_layer=5)
    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="run-form"')
    assert "n_layer must be between 1 and 2" in html
    assert not Run.objects.exists()


def test_disabled_or_unknown_pack_is_refused(client, student, pack):
    Pack.objects.create(slug="off", title="Off", teaches="-", text="a", enabled=False)
    client.force_login(student)
    for slug in ("off", "nope"):
        response = client.post(URL, {"pack": slug, **TINY})
        assert response.status_code == 400
        assert response.context["form"].errors["pack"]
    assert not Run.objects.exists()


def test_own_upload_can_be_trained_on(client, student, pack):
    upload, _ = Upload.objects.store("cat\ndog\nbird", student, name="pets.txt")
    client.force_login(student)
    page = client.get(URL, {"pack": upload.ref})
    assert page.context["form"]["pack"].value() == upload.ref
    assert "pets.txt" in page.content.decode()
    response = client.post(URL, {"pack": upload.ref, **TINY})
    assert response.status_code == 302
    run = Run.objects.get(owner=student)
    assert run.upload == upload and run.pack is None
    assert run.source_ref == upload.ref and run.source_title == "pets.txt"


def test_someone_elses_upload_is_refused(client, student, outsider, pack):
    upload, _ = Upload.objects.store("secret\ntext", outsider)
    client.force_login(student)
    response = client.post(URL, {"pack": upload.ref, **TINY})
    assert response.status_code == 400
    assert not Run.objects.exists()


def test_classroom_run_is_shared_with_the_classroom(client, student, pack, classroom):
    client.force_login(student)
    response = client.post(URL, {"pack": pack.slug, "classroom": classroom.pk, **TINY})
    assert response.status_code == 302
    assert Run.objects.get(owner=student).classroom == classroom


def test_a_classroom_the_student_is_not_in_is_refused(client, outsider, pack, classroom):
    client.force_login(outsider)
    response = client.post(URL, {"pack": pack.slug, "classroom": classroom.pk, **TINY})
    assert response.status_code == 403
    assert not Run.objects.exists()
