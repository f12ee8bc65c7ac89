"""Wake-ups: the trainer tells a run's viewers "the stored state changed, render again".

A wake-up is a hint, never the data, so sending one must never slow down or break
training: it is handed to an event loop and forgotten. With channels_redis that loop is a
daemon thread of this process; with the in-memory layer (embedded mode) the sockets live on
the server's own event loop, which the consumer registers when a viewer connects.
"""

import asyncio
import logging
import threading
import time

from channels.layers import InMemoryChannelLayer, get_channel_layer

from runs.models import run_group

log = logging.getLogger(__name__)

WAKE = {"type": "run.wake"}

_server_loop = None  # the loop the in-memory layer's sockets run on
_sender_loop = None  # our own loop for network layers (channels_redis)
_lock = threading.Lock()


def note_server_loop(loop):
    """Called by the consumer on connect: in-memory wake-ups must be delivered on this loop."""
    global _server_loop
    _server_loop = loop


def _own_loop():
    global _sender_loop
    with _lock:
        if _sender_loop is None or _sender_loop.is_closed():
            _sender_loop = asyncio.new_event_loop()
            threading.Thread(target=_sender_loop.run_forever, name="lab-wake", daemon=True).start()
        return _sender_loop


def _log_failure(future):
    if not future.cancelled() and future.exception() is not None:
        log.warning("wake-up not sent: %r", future.exception())


def wake_viewers(run_id):
    """Send {"type": "run.wake"} to the group run.<id>. Never raises, never blocks."""
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        if isinstance(layer, InMemoryChannelLayer):
            loop = _server_loop
            if loop is None or loop.is_closed():
                return  # nobody in this process is watching
        else:
            loop = _own_loop()
        future = asyncio.run_coroutine_threadsafe(
            # sent_at: the wall clock when the events were stored (the audience's figures
            # say how long a wake-up took to arrive)
            layer.group_send(
                run_group(run_id), dict(WAKE, run_id=run_id, sent_at=time.time())
            ),
            loop,
        )
        future.add_done_callback(_log_failure)
    except Exception as exc:  # a hint lost is fine; training goes on
        log.warning("wake-up not sent: %r", exc, extra={"run_id": run_id})
