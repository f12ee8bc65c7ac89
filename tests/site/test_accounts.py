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


def test_password_reset_by_email(client, student, django_user_model):
    import re

    from django.core import mail

    student.email = "student@example.org"
    student.save()
    page = client.get(reverse("password_reset")).content.decode()
    assert "Reset your password" in page and "Send the link" in page
    response = client.post(reverse("password_reset"), {"email": "student@example.org"})
    assert response.status_code == 302
    assert "Check your e-mail" in client.get(response["Location"]).content.decode()
    (message,) = mail.outbox
    assert message.subject == "Reset your MicroLLM Lab password"
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "Choose a new password" in form.content.decode()
    new = "a-brand-new-passphrase-42"
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True
    )
    assert "Password set" in done.content.decode()
    assert django_user_model.objects.get(pk=student.pk).check_password(new)
    # the link works once
    assert "no longer works" in client.get(link, follow=True).content.decode()


def test_password_reset_for_an_unknown_address_says_the_same(client, student):
    from django.core import mail

    response = client.post(reverse("password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302 and not mail.outbox  # nothing tells who has an account


def test_signup_takes_an_optional_email(client, django_user_model):
    password = "a-long-enough-passphrase-7"
    client.post(
        reverse("signup"),
        {
            "username": "ada",
            "email": "ada@example.org",
            "password1": password,
            "password2": password,
        },
    )
    assert django_user_model.objects.get(username="ada").email == "ada@example.org"
