"""Refusals and missing pages are the lab's own pages (with the reason, the navigation and
a way back), not the server's bare defaults; a server error page needs no database."""

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from classrooms.models import Classroom

pytestmark = pytest.mark.django_db


def test_a_refusal_says_why_inside_the_site(client, student, instructor):
    classroom = Classroom.objects.create(name="Not yours", instructor=instructor)
    client.force_login(student)
    response = client.get(reverse("runs:new") + f"?classroom={classroom.pk}")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You are not in this classroom." in html
    assert 'href="/runs/new/"' in html and "Back to the home page" in html  # the site's chrome


def test_a_missing_page_is_a_404_inside_the_site(client, student):
    client.force_login(student)
    response = client.get("/runs/999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Nothing here" in html and "/runs/999999/" in html and "My runs" in html


def test_the_server_error_page_renders_without_a_request():
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html
