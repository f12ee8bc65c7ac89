"""Hints for the classroom sockets: "something in this classroom changed, render again".

Like runs.live, a hint is never the data and sending one never breaks the caller.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def classroom_group(classroom_id):
    """Sockets of the instructor's panel and of the spotlight pages of a classroom."""
    return f"classroom.{classroom_id}"


def notify(classroom_id, change):
    """Send {"type": "classroom.changed", "change": change} to the classroom's sockets.

    change: "runs" (a run started, a student joined or left: refresh the roster and the
    runs watched) or "spotlight" (the spotlighted run changed)."""
    try:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(
                classroom_group(classroom_id),
                {"type": "classroom.changed", "change": change},
            )
    except Exception as exc:  # a hint lost is fine: the socket also refreshes on a timer
        log.warning("classroom hint not sent: %r", exc, extra={"classroom_id": classroom_id})
