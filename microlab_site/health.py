"""/health/: the database, the channel layer, the broker and the workers, each checked.

Anyone (a load balancer, a probe) gets the terse answer: 200 or 503, and the names of the
failing components. Staff, or a request with `Authorization: Bearer <LAB_HEALTH_TOKEN>`,
also get each check's detail (worker hosts and pids, connection errors).
"""

import hmac
import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection
from django.http import JsonResponse


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def check_channel_layer():
    layer = get_channel_layer()

    async def round_trip():
        channel = await layer.new_channel("health.")
        token = uuid.uuid4().hex
        await layer.send(channel, {"type": "health.ping", "token": token})
        message = await layer.receive(channel)
        if message.get("token") != token:
            raise RuntimeError("channel layer returned another message")

    async_to_sync(round_trip)()
    return type(layer).__name__


def check_broker():
    if settings.LAB_WORKER_MODE == "embedded":
        return "embedded (in-process)"
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2).ping()
    return "redis"


def check_workers():
    from runs.workers import worker_status

    return worker_status()


CHECKS = {
    "database": check_database,
    "channel_layer": check_channel_layer,
    "broker": check_broker,
    "workers": check_workers,
}


def may_see_details(request):
    if request.user.is_authenticated and request.user.is_staff:
        return True
    token = settings.LAB_HEALTH_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


def health(request):
    started = time.monotonic()
    report, failing = {}, []
    for name, check in CHECKS.items():
        try:
            report[name] = {"ok": True, "detail": check()}
        except Exception as exc:  # report every failure, never crash the health page
            report[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"}
            failing.append(name)
    body = {"status": "ok" if not failing else "failing", "failing": failing}
    if may_see_details(request):
        body.update(
            mode=settings.LAB_WORKER_MODE,
            checks=report,
            ms=round((time.monotonic() - started) * 1000, 1),
        )
    return JsonResponse(body, status=503 if failing else 200)
