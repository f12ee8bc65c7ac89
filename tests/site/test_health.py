from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from runs.models import WorkerHeartbeat

pytestmark = [pytest.mark.django_db, pytest.mark.services]


@pytest.fixture
def client(client, django_user_model):
    """Staff see the details the checks below read."""
    client.force_login(django_user_model.objects.create_user("ops", is_staff=True))
    return client


def test_anonymous_health_is_terse(settings, django_user_model):
    from django.test import Client

    anonymous = Client()
    response = anonymous.get(reverse("health"))
    assert response.status_code == 503
    assert response.json() == {"status": "failing", "failing": ["workers"]}
    student = Client()
    student.force_login(django_user_model.objects.create_user("student"))
    assert "checks" not in student.get(reverse("health")).json()
    settings.LAB_HEALTH_TOKEN = "probe-token-" + "x" * 20
    assert "checks" not in anonymous.get(reverse("health"), HTTP_AUTHORIZATION="Bearer no").json()
    detailed = anonymous.get(
        reverse("health"), HTTP_AUTHORIZATION=f"Bearer {settings.LAB_HEALTH_TOKEN}"
    ).json()
    assert detailed["checks"]["database"]["ok"] and "workers" in detailed["checks"]


def test_health_names_the_missing_worker(client):
    response = client.get(reverse("health"))
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["workers"]
    assert body["checks"]["database"]["ok"]
    assert body["checks"]["channel_layer"]["ok"]
    assert body["checks"]["broker"]["ok"]


def test_health_is_200_with_a_fresh_heartbeat(client, settings):
    WorkerHeartbeat.objects.create(
        name="w1", mode=settings.LAB_WORKER_MODE, last_seen=timezone.now()
    )
    response = client.get(reverse("health"))
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "ok"


def test_a_stale_heartbeat_is_not_a_worker(client, settings):
    stale = timezone.now() - timedelta(seconds=settings.LAB_HEARTBEAT_STALE_SECONDS + 5)
    WorkerHeartbeat.objects.create(name="w1", mode="embedded", last_seen=stale)
    assert client.get(reverse("health")).status_code == 503


def test_a_dead_broker_is_named(client, settings):
    settings.LAB_WORKER_MODE = "celery"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    WorkerHeartbeat.objects.create(name="w1", mode="celery", last_seen=timezone.now())
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]
