"""Expected 403s and 404s are logged at INFO without a traceback; the admin is the lab's;
settings show as tables."""

import logging

import pytest
from django.urls import reverse

from classrooms.models import Classroom
from microlab_site.logs import JsonFormatter

pytestmark = pytest.mark.django_db


def request_records(caplog):
    return [r for r in caplog.records if r.name == "django.request"]


@pytest.mark.parametrize("status", [403, 404])
def test_an_expected_refusal_is_info_without_a_traceback(client, caplog, make_user, status):
    teacher = make_user("teacher", instructor=True)
    room = Classroom.objects.create(name="Room", instructor=teacher)
    member = make_user("member")
    room.join(member)
    client.force_login(member if status == 403 else make_user("stranger"))
    with caplog.at_level(logging.INFO):
        response = client.get(reverse("classrooms:edit", args=[room.pk]))
    assert response.status_code == status
    (record,) = request_records(caplog)
    assert record.levelname == "INFO" and record.exc_info is None
    assert "exc" not in JsonFormatter().format(record)


def test_a_server_error_is_still_an_error(rf, caplog):
    from django.utils.log import log_response

    request = rf.get("/boom/")
    response = type("R", (), {"status_code": 500, "_has_been_logged": False})()
    with caplog.at_level(logging.INFO):
        log_response("Internal Server Error: %s", request.path, response=response, request=request)
    (record,) = request_records(caplog)
    assert record.levelname == "ERROR"


def test_the_admin_is_branded_and_shows_settings_as_tables(client, make_user, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    teacher = make_user("teacher", instructor=True)
    room = Classroom.objects.create(
        name="Room",
        instructor=teacher,
        default_config={"learning_rate": 0.01, "seed": 7},
        locked_fields=["seed"],
    )
    client.force_login(teacher)
    index = client.get("/admin/").content.decode()
    assert "MicroLLM Lab administration" in index and "Django administration" not in index
    page = client.get(f"/admin/classrooms/classroom/{room.pk}/change/").content.decode()
    assert 'class="settings-table"' in page
    assert "How big each update is" in page and "(fixed for students)" in page


@pytest.mark.django_db
def test_a_host_the_site_does_not_serve_is_a_400_page_not_a_500(client, settings):
    """Refused by Django before the authentication middleware sets request.user: the 400
    page still renders (as a visitor's), with DEBUG off."""
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get("/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert "That request could not be used" in response.content.decode()
