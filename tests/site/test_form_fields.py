"""The shared form include (templates/form_fields.html): every id a field's
aria-describedby names (Django's <id>_helptext and <id>_error) is on the page, so a screen
reader reads the help and the error when the field gets focus."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def described_ids(html):
    return [i for ids in re.findall(r'aria-describedby="([^"]+)"', html) for i in ids.split()]


def test_signup_errors_and_help_are_linked_to_their_fields(client):
    response = client.post(
        reverse("signup"), {"username": "", "password1": "a-long-pass", "password2": "other"}
    )
    html = response.content.decode()
    ids = described_ids(html)
    assert "id_username_error" in ids and "id_password2_error" in ids
    for described in ids:
        assert f'id="{described}"' in html, described
