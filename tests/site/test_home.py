import pytest
from django.urls import reverse

from packs_app.models import Pack

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_sees_sign_up_and_packs(client):
    Pack.objects.create(
        slug="arith", title="Arithmetic", teaches="Digits add up.", text="1+1=2\n", builtin=True
    )
    html = client.get(reverse("home")).content.decode()
    assert "Sign up" in html and "Log in" in html
    assert "Arithmetic" in html and "Digits add up." in html


def test_disabled_packs_are_not_offered(client):
    Pack.objects.create(
        slug="off", title="Hidden pack", teaches="-", text="x\n", builtin=True, enabled=False
    )
    assert "Hidden pack" not in client.get(reverse("home")).content.decode()


def test_student_sees_empty_state_for_runs(client, student):
    client.force_login(student)
    html = client.get(reverse("home")).content.decode()
    assert "No runs yet" in html and "New run" in html
