"""Bad input in URLs and query strings is a clear 4xx, never a server error."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path",
    [
        "/runs/{run_id}/steps/999/tokens/0/ops/",
        "/runs/{run_id}/steps/{step}/tokens/999/ops/",
        "/runs/{run_id}/steps/{step}/tokens/0/ops/?op=-5",
        "/runs/{run_id}/steps/{step}/tokens/0/ops/?op=abc",
        "/runs/{run_id}/steps/{step}/tokens/0/ops/nodes/9999/",
        "/runs/{run_id}/steps/{step}/tokens/0/ops/weights/nope/",
        "/runs/{run_id}/steps/999/tokens/0/",
        "/runs/{run_id}/steps/{step}/tokens/999/",
        "/runs/{run_id}/snapshot/?step=999",
        "/runs/{run_id}/snapshot/?i=abc",
        "/runs/{run_id}/?step=abc&pos=-1",
        "/runs/999999/export.json",
        "/runs/new/?pack=no-such-pack",
        "/runs/new/?pack=upload:0000",
        "/classrooms/compare/?a=abc&b=999999",
        "/classrooms/999999/",
    ],
)
def test_bad_urls_are_4xx_with_a_message(client, world, student, path):
    client.force_login(student)
    response = client.get(path.format(**world))
    assert response.status_code < 500, (path, response.status_code)
    if response.status_code >= 400:
        assert response.content.strip(), path


def test_bad_join_code_is_a_400_and_joins_nothing(client, outsider):
    client.force_login(outsider)
    response = client.post(reverse("classrooms:join"), {"code": "NOPE42"})
    assert 400 <= response.status_code < 500
    assert outsider.classrooms.count() == 0


@pytest.mark.services
@pytest.mark.parametrize(
    "path",
    [
        "/runs/new/?pack=%00",
        "/runs/new/?pack=upload:%00",
        "/packs/upload/?upload=%00",
        "/packs/upload/%00/remove/",
        "/classrooms/compare/?a=%00&b=1",
        "/admin/packs_app/upload/?owner=%00",
        "/admin/packs_app/pack/?q=%00",
        "/admin/runs/run/?status=%00",
        "/?%00=1",
    ],
)
def test_nul_in_an_address_is_a_400_with_a_message(client, world, instructor, path):
    """PostgreSQL text cannot hold NUL: the production pass is where this was a 500."""
    client.force_login(instructor)
    response = client.get(path)
    assert response.status_code == 400, (path, response.status_code)
    assert "contains a NUL character" in response.content.decode()


@pytest.mark.services
def test_nul_in_a_form_is_a_400_and_stores_nothing(client, outsider):
    from classrooms.models import Membership

    client.force_login(outsider)
    for url, data in [
        (reverse("classrooms:join"), {"code": "AB\x00CD"}),
        (reverse("runs:new"), {"pack": "upload:\x00", "num_steps": "10"}),
        (reverse("login"), {"username": "a\x00", "password": "b"}),
    ]:
        response = client.post(url, data)
        assert response.status_code == 400, url
        assert "The form contains a NUL character" in response.content.decode()
    assert not Membership.objects.exists()
