"""Guessing is slowed down: logins (django-axes) and join codes (django-ratelimit) are
limited per account and per client address, with a clear message and a 429."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from classrooms.models import Classroom
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture(autouse=True)
def fresh_counts(settings):
    settings.AXES_FAILURE_LIMIT = 5
    cache.clear()
    yield
    cache.clear()


def log_in(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_an_account_is_locked_after_its_failures(client, student):
    for _ in range(4):
        assert log_in(client, "student", "wrong").status_code == 200  # the form again
    assert log_in(client, "student", "wrong").status_code == 429  # the fifth locks
    response = log_in(client, "student", PASSWORD, address="10.0.0.2")  # even right, elsewhere
    assert response.status_code == 429
    body = response.content.decode()
    assert "Too many failed logins" in body and "minutes" in body and "Reset it by e-mail" in body
    assert "_auth_user_id" not in client.session


def test_an_address_is_locked_after_its_failures(client, student, classmate):
    for name in ("a", "b", "c", "d", "e"):
        log_in(client, name, "wrong", address="10.0.0.9")
    assert log_in(client, "classmate", PASSWORD, address="10.0.0.9").status_code == 429
    # another address, and the account, are not affected
    assert log_in(client, "classmate", PASSWORD, address="10.0.0.3").status_code == 302


def test_a_right_password_resets_the_count(client, student):
    for _ in range(4):
        log_in(client, "student", "wrong")
    assert log_in(client, "student", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert log_in(client, "student", "wrong").status_code == 200


def join(client, code, address="10.0.0.1"):
    return client.post(reverse("classrooms:join"), {"code": code}, REMOTE_ADDR=address)


def test_join_codes_are_limited_per_account(client, student, instructor, settings):
    settings.LAB_JOIN_RATE_PER_USER = "3/10m"
    room = Classroom.objects.create(name="Room", instructor=instructor)
    client.force_login(student)
    for guess in ("AAAAAA", "BBBBBB", "CCCCCC"):
        assert join(client, guess).status_code == 400
    response = join(client, room.join_code)  # even the right code now waits
    assert response.status_code == 429
    assert "Too many join attempts" in response.content.decode()
    assert not room.has_member(student)


def test_join_codes_are_limited_per_address(client, student, classmate, outsider, settings):
    settings.LAB_JOIN_RATE_PER_ADDRESS = "4/10m"
    for user in (student, classmate):
        client.force_login(user)
        assert join(client, "AAAAAA", "10.0.0.7").status_code == 400
        assert join(client, "BBBBBB", "10.0.0.7").status_code == 400
    client.force_login(outsider)
    assert join(client, "CCCCCC", "10.0.0.7").status_code == 429
    assert join(client, "CCCCCC", "10.0.0.8").status_code == 400
