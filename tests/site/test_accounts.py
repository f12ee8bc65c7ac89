import pytest
from django.urls import reverse

from common.roles import is_instructor
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_signup_creates_a_student_and_logs_in(client, django_user_model):
    response = client.post(
        reverse("signup"),
        {"username": "ada", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"},
    )
    assert response.status_code == 302
    user = django_user_model.objects.get(username="ada")
    assert not is_instructor(user)
    assert client.get(reverse("home")).context["user"] == user


def test_signup_with_mismatched_passwords_is_a_400_and_stores_nothing(client, django_user_model):
    response = client.post(
        reverse("signup"),
        {"username": "ada", "password1": "a-long-pass-phrase", "password2": "another-one-here"},
    )
    assert response.status_code == 400
    assert "didn’t match" in response.content.decode()
    assert not django_user_model.objects.filter(username="ada").exists()


def test_login_and_logout(client, student):
    response = client.post(reverse("login"), {"username": "student", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"] == student
    client.post(reverse("logout"))
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_password_change_needs_login(client, student):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and reverse("login") in response.url
    client.force_login(student)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "n3w-pass-phrase!",
            "new_password2": "n3w-pass-phrase!",
        },
    )
    assert response.status_code == 302
    student.refresh_from_db()
    assert student.check_password("n3w-pass-phrase!")


def test_csrf_is_enforced_on_posts(student):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "student", "password": PASSWORD})
    assert response.status_code == 403


def test_make_instructor_command(student):
    from django.core.management import call_command

    call_command("make_instructor", "student")
    student.refresh_from_db()
    assert is_instructor(student) and student.is_staff


def test_instructor_fixture_has_the_role(instructor, student):
    assert is_instructor(instructor)
    assert not is_instructor(student)
