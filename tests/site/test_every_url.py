"""A sweep over every URL of the lab's apps: anonymous visitors are sent to log in, and a
logged-in stranger gets nothing from a URL that names someone else's run, classroom or
upload. (Each app's own tests check who *may*, in detail; this sweep makes sure no URL
added later slips through without a guard.)"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from classrooms.models import Classroom
from packs_app.models import Upload
from runs.models import Run

pytestmark = pytest.mark.django_db
APPS = ("runs", "classrooms", "packs")
# URLs anyone logged in may open: lists, forms and the join page.
OPEN_TO_STUDENTS = {"runs:list", "runs:new", "runs:compare", "runs:glossary", "classrooms:list",
                    "classrooms:new", "classrooms:join", "classrooms:compare",
                    "packs:upload"}  # fmt: skip


def app_url_names():
    names = []
    for top in get_resolver().url_patterns:
        if isinstance(top, URLResolver) and top.namespace in APPS:
            for pattern in top.url_patterns:
                assert isinstance(pattern, URLPattern)
                names.append((f"{top.namespace}:{pattern.name}", list(pattern.pattern.converters)))
    return names


def url_for(name, converters, world):
    return reverse(name, kwargs={key: world[key] for key in converters})


def test_the_sweep_sees_every_app_url():
    names = [name for name, _ in app_url_names()]
    assert len(names) >= 25 and "runs:opview" in names and "classrooms:spotlight" in names


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_log_in(client, world, method):
    for name, converters in app_url_names():
        response = getattr(client, method)(url_for(name, converters, world))
        if response.status_code == 405:
            continue  # the other method is the one this URL answers
        assert response.status_code == 302, (name, response.status_code)
        assert response.url.startswith(reverse("login")), name


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_stranger_gets_nothing_from_other_peoples_urls(client, world, outsider, method):
    client.force_login(outsider)
    for name, converters in app_url_names():
        if name in OPEN_TO_STUDENTS:
            continue
        response = getattr(client, method)(url_for(name, converters, world))
        assert response.status_code in (403, 404, 405), (name, method, response.status_code)
    assert Run.objects.get(pk=world["run_id"]).status == Run.Status.COMPLETED
    assert Classroom.objects.get(pk=world["classroom_id"]).students.count() == 1
    assert Upload.objects.filter(pk=world["upload_id"]).exists()
