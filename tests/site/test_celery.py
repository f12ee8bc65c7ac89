"""microlab_site.celery: a broker blip must not end a worker that holds a message.

kombu's connection-error path, replayed against the real Redis: the transport forgets its
connection, then the consumer's channel closes and gives back its unacknowledged
messages. Unpatched, that raises AttributeError ('NoneType' object has no attribute
'hostname'), which Celery treats as unrecoverable and exits on."""

import os

import pytest
from kombu import Connection, Exchange, Producer, Queue

from tests.conftest import PROD_PASS

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not PROD_PASS, reason="needs Redis (production pass)"),
]


def a_channel_holding_one_unacked_message(url):
    connection = Connection(url)
    channel = connection.channel()
    queue = Queue("blip-check", Exchange("blip-check"), "blip-check", channel=channel)
    queue.declare()
    queue.purge()
    Producer(channel).publish({"wake": 1}, exchange="blip-check", routing_key="blip-check")
    consumer = connection.Consumer(queue, callbacks=[lambda body, message: None], channel=channel)
    consumer.consume()
    connection.drain_events(timeout=5)
    assert len(channel.qos._delivered) == 1
    return connection, channel


def test_closing_a_channel_after_the_transport_lost_its_connection_does_not_raise():
    import microlab_site.celery  # noqa: F401 (applies the workaround)

    connection, channel = a_channel_holding_one_unacked_message(os.environ["REDIS_URL"])
    connection._do_close_transport()  # what a connection error does first
    channel.close()  # gives back its unacked messages: the crash was here
    assert not channel.qos._delivered


def test_a_connected_channel_still_gives_its_messages_back():
    import microlab_site.celery  # noqa: F401

    connection, channel = a_channel_holding_one_unacked_message(os.environ["REDIS_URL"])
    channel.close()
    with Connection(os.environ["REDIS_URL"]) as again:
        declared = again.default_channel.queue_declare("blip-check")
        assert declared.message_count == 1  # restored to the queue
        again.default_channel.queue_purge("blip-check")
    connection.close()
