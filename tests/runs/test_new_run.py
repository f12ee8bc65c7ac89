"""/runs/new/: the form prefilled from the pack, inline errors from the engine's own
checks in the form's words (every bad field at once), the run count kept current on every
htmx answer, nothing stored on error, and a queued, dispatched run on success."""

import re

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


def unavailable_notice(response):
    found = re.search(
        r'<p class="message" role="status" id="pack-unavailable">([^<]*)</p>',
        response.content.decode(),
    )
    return found and found.group(1)


def test_unknown_pack_falls_back_to_the_first_offered_and_says_so(client, student, pack):
    client.force_login(student)
    response = client.get(URL, {"pack": "no-such-pack"})
    assert response.context["form"]["pack"].value() == pack.slug
    assert unavailable_notice(response) == "There is no pack “no-such-pack”; pick another text."
    response = client.get(URL, {"pack": "<b>x"})
    assert unavailable_notice(response) == "There is no pack “&lt;b&gt;x”; pick another text."


def test_a_link_to_a_disabled_pack_says_why_another_is_shown(client, student, pack):
    Pack.objects.create(slug="regex", title="Regex", teaches="-", text="a", enabled=False)
    client.force_login(student)
    response = client.get(URL, {"pack": "regex"})
    assert response.status_code == 200
    assert response.context["form"]["pack"].value() == pack.slug  # the fallback stays
    assert unavailable_notice(response) == (
        "The pack “Regex” is not available right now; pick another text."
    )


def test_a_link_to_an_upload_no_longer_shared_says_why(client, student, classmate, pack, classroom):
    upload, _ = Upload.objects.store("cat\ndog", classmate, name="pets of classmate.txt")
    upload.shared_with.add(classroom)
    client.force_login(student)
    shared = client.get(URL, {"pack": upload.ref})
    assert shared.context["form"]["pack"].value() == upload.ref
    assert unavailable_notice(shared) is None
    upload.shared_with.remove(classroom)
    response = client.get(URL, {"pack": upload.ref})
    assert response.context["form"]["pack"].value() == pack.slug
    assert unavailable_notice(response) == (
        "The upload in that link is not shared with you (or no longer is); pick another text."
    )
    assert "pets of classmate" not in response.content.decode()


def test_a_pack_the_classroom_does_not_offer_falls_back_and_says_so(
    client, student, pack, classroom
):
    other = Pack.objects.create(slug="other", title="Other", teaches="-", text="a\nb")
    classroom.offered_packs.set([pack])
    client.force_login(student)
    response = client.get(URL, {"pack": other.slug, "classroom": classroom.pk})
    assert response.context["form"]["pack"].value() == pack.slug  # the classroom's own
    assert unavailable_notice(response) == (
        "The pack “Other” is not offered in Period 3; pick another text."
    )
    outside = client.get(URL, {"pack": other.slug})  # outside the classroom: fine
    assert outside.context["form"]["pack"].value() == other.slug
    assert unavailable_notice(outside) is None


def test_no_notice_for_an_offered_pack_or_no_link(client, student, pack):
    client.force_login(student)
    for params in ({}, {"pack": pack.slug}):
        assert unavailable_notice(client.get(URL, params)) is None
    change = client.get(URL, {"pack": pack.slug}, HTTP_HX_REQUEST="true")
    assert 'id="pack-unavailable"' not in change.content.decode()


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
        ("n_embd", 100, "Embedding size must be between 4 and 64 (got 100)."),
        ("n_layer", 3, "Layers must be between 1 and 2 (got 3)."),
        ("block_size", 65, "Block size must be between 1 and 64 (got 65)."),
        ("num_steps", 2001, "Training steps must be between 1 and 2,000 (got 2,001)."),
        ("n_head", 3, "Attention heads must divide the embedding size: 3 does not divide 8."),
        ("learning_rate", 5, "Learning rate must be between 0.00001 and 1 (got 5)."),
        ("learning_rate", 0.000001, "Learning rate must be between 0.00001 and 1 (got 0.000001)."),
        ("temperature", 0, "Sampling temperature must be between 0.05 and 2 (got 0)."),
        ("seed", -1, "Random seed must be between 0 and 4,294,967,295 (got -1)."),
        ("n_embd", "", "This field is required."),
        ("num_steps", "many", "Enter a whole number."),
        ("num_steps", "12e", "Enter a whole number."),
        ("num_steps", "10.5", "Enter a whole number."),
        ("learning_rate", "0.01x", "Enter a number."),
    ],
)
def test_invalid_values_are_inline_errors_and_nothing_is_stored(
    client, student, pack, field, value, message
):
    client.force_login(student)
    response = post(client, pack, **{field: value})
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    # what the field's aria-describedby names is on the page: its limit and its error
    described = re.search(rf'<input [^>]*id="id_{field}"[^>]*>', html).group(0)
    ids = re.search(r'aria-describedby="([^"]+)"', described).group(1).split()
    assert f"id_{field}_error" in ids
    assert all(f'id="{i}"' in html for i in ids), ids
    assert not Run.objects.exists()


def test_config_fields_are_text_inputs_with_a_number_keyboard(client, student, pack):
    """type=number would send "" for "12e" (so "required" instead of "whole number")."""
    client.force_login(student)
    form = client.get(URL).context["form"]
    for name in ("num_steps", "seed", "n_embd"):
        html = str(form[name])
        assert 'type="text"' in html and 'inputmode="numeric"' in html
    assert 'inputmode="decimal"' in str(form["learning_rate"])


def test_every_bad_field_is_flagged_at_once(client, student, pack):
    client.force_login(student)
    response = post(client, pack, n_layer=3, n_head=9, num_steps=0)
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"n_layer", "n_head", "num_steps"}


def test_a_field_that_does_not_parse_leaves_the_others_checked(client, student, pack):
    client.force_login(student)
    response = post(client, pack, num_steps="10.5", seed=-1, n_embd=32, n_head=5)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"num_steps", "seed", "n_head"}
    assert errors["seed"] == ["Random seed must be between 0 and 4,294,967,295 (got -1)."]
    assert errors["n_head"] == [
        "Attention heads must divide the embedding size: 5 does not divide 32."
    ]
    assert not Run.objects.exists()


def test_heads_are_checked_against_the_embedding_only_when_both_are_in_range(client, student, pack):
    client.force_login(student)
    errors = post(client, pack, n_embd=32, n_head=9).context["form"].errors
    assert errors["n_head"] == ["Attention heads must be between 1 and 8 (got 9)."]
    errors = post(client, pack, n_embd="x", n_head=3).context["form"].errors
    assert set(errors) == {"n_embd"}


def test_a_text_with_too_many_characters_is_refused_on_the_pack(client, student, pack):
    pack.text = "".join(chr(0x4E00 + i) for i in range(1100))
    pack.save()
    client.force_login(student)
    response = post(client, pack, seed=-1)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["pack"] == [
        "This text has 1,100 different characters; a run can learn between 1 and 1,023."
    ]
    assert set(errors) == {"pack", "seed"}
    assert not Run.objects.exists()


def test_htmx_invalid_post_swaps_the_form_with_400(client, student, pack):
    client.force_login(student)
    response = post(client, pack, htmx=True, n_layer=5)
    assert response.status_code == 400
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="run-form"')
    assert "Layers must be between 1 and 2 (got 5)." in html
    assert not Run.objects.exists()


def test_htmx_refusal_brings_the_run_count_up_to_date(client, student, pack, start_run, settings):
    """The count is part of the swapped form: the page showed 0 before the refusal."""
    settings.LAB_MAX_ACTIVE_RUNS = 3
    client.force_login(student)
    assert "You have <strong>0</strong> of 3" in client.get(URL).content.decode()
    for _ in range(3):
        start_run(student)
    response = post(client, pack, htmx=True)
    assert response.status_code == 409
    html = response.content.decode()
    assert html.lstrip().startswith('<form id="run-form"')
    assert 'id="active-runs">You have <strong>3</strong> of 3 runs queued or running.' in html
    assert "You already have 3 runs queued or running; the limit is 3" in html
    assert Run.objects.filter(owner=student).count() == 3


def test_pack_change_and_invalid_post_bring_the_run_count_up_to_date(
    client, student, pack, start_run
):
    client.force_login(student)
    start_run(student)
    change = client.get(URL, {"pack": pack.slug}, HTTP_HX_REQUEST="true")
    assert "You have <strong>1</strong> of" in change.content.decode()
    invalid = post(client, pack, htmx=True, n_layer=5)
    assert "You have <strong>1</strong> of" in invalid.content.decode()


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


def test_pack_select_sends_the_whole_form_and_the_classroom_only_in_one(
    client, student, pack, classroom
):
    """The pack menu sends the form's values (to keep the student's edits), which hold the
    classroom only in a classroom."""
    client.force_login(student)
    html = client.get(URL).content.decode()
    assert 'hx-include="#run-form"' in html and 'name="classroom"' not in html
    html = client.get(URL, {"classroom": classroom.pk}).content.decode()
    assert 'hx-include="#run-form"' in html
    assert f'<input type="hidden" name="classroom" value="{classroom.pk}">' in html


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


def test_outside_a_classroom_the_form_points_a_member_to_their_classroom(
    client, student, outsider, pack, classroom
):
    client.force_login(student)
    html = client.get(URL).content.decode()
    assert 'id="private-run-note"' in html
    assert f'href="/runs/new/?classroom={classroom.pk}">Period 3</a>' in html
    inside = client.get(URL, {"classroom": classroom.pk}).content.decode()
    assert 'id="private-run-note"' not in inside and "its rules apply" in inside
    client.force_login(outsider)  # in no classroom: nothing to point to
    assert 'id="private-run-note"' not in client.get(URL).content.decode()
