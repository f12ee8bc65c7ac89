import logging
import os

from celery import Celery
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "microlab_site.settings")

log = logging.getLogger(__name__)

app = Celery("microlab_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def survive_broker_blips():
    """Work around kombu's Redis transport ending a busy worker on a broker blip: on the
    connection-error path the transport forgets its connection before the channel gives
    back its unacknowledged messages, and that restore dies with AttributeError
    ("'NoneType' object has no attribute 'hostname'"), which Celery takes as unrecoverable.
    Our messages are only wake-ups (PostgreSQL is the queue of record, and every keeper
    round tops the wake-ups up: runs.dispatch), so when the connection is gone there is
    nothing worth restoring: forget them and let the worker reconnect."""
    restore_unacked = kombu_redis.QoS.restore_unacked
    if getattr(restore_unacked, "survives_blips", False):
        return

    def restore_unless_disconnected(self, client=None):
        transport = self.channel.connection
        if client is None and (transport is None or transport.client is None):
            log.warning(
                "broker connection gone: %d wake-up(s) left to the keeper's top-up",
                len(self._delivered),
            )
            self._delivered.clear()
            return None
        return restore_unacked(self, client)

    restore_unless_disconnected.survives_blips = True
    kombu_redis.QoS.restore_unacked = restore_unless_disconnected


survive_broker_blips()
