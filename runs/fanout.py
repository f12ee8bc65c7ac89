"""One render per run, shared by all its viewers in this server process.

A run watched by a whole class (its page open on 100 screens) must not be rendered 100
times per wake-up. Every socket of a run joins the run's Audience; a wake-up marks the
audience dirty and a single pusher renders when due (at most 1 / push_interval a second):
the run is read once, its fragments rendered once for each distinct point viewers are at
(`since`: all viewers in step share one render; one who just connected gets the full
state), and the same text is sent to each. A render that meets an unreachable database is
tried again until it is back; the sockets stay open.
"""

import asyncio
import logging
import time

from channels.db import database_sync_to_async

from common.sockets import CLOSE_FORBIDDEN, DATABASE_ERRORS, when_database_is_back
from runs.models import Run

log = logging.getLogger(__name__)


def render_for(run_id, sinces):
    """(run.last_seq, {since: HTML}) of run `run_id`, read once, rendered once per since."""
    from runs.page import render_live

    run = Run.objects.select_related("pack", "upload", "owner").get(pk=run_id)
    return run.last_seq, {since: render_live(run, since=since) for since in sinces}


class Audience:
    """The sockets of one run in this process. A viewer has `since` (the seq of the newest
    event it has been sent; None: nothing yet) and `send(text_data=...)`."""

    push_interval = 0.1
    audiences = {}  # run id -> Audience (this process's event loop only)

    def __init__(self, run_id):
        self.run_id = run_id
        self.viewers = set()
        self.dirty = False
        self.last_push = 0.0
        self.pusher = None
        self.renders = 0  # for tests and the benchmark: renders per wake-up, not per socket

    @classmethod
    def join(cls, run_id, viewer):
        """Add `viewer` (since None) to the run's audience; its first push, the whole
        state, comes with the next render."""
        audience = cls.audiences.get(run_id)
        if audience is None:
            audience = cls.audiences[run_id] = cls(run_id)
        viewer.since = None
        audience.viewers.add(viewer)
        audience.mark_dirty()
        return audience

    def leave(self, viewer):
        self.viewers.discard(viewer)
        if not self.viewers and Audience.audiences.get(self.run_id) is self:
            del Audience.audiences[self.run_id]
            if self.pusher:
                self.pusher.cancel()

    def mark_dirty(self):
        self.dirty = True
        if self.pusher is None or self.pusher.done():
            self.pusher = asyncio.ensure_future(self.push_when_due())

    async def push_when_due(self):
        while self.dirty and self.viewers:
            wait = self.last_push + self.push_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.dirty = False
            self.last_push = time.monotonic()
            try:
                await self.push()
            except DATABASE_ERRORS as exc:
                self.dirty = True
                await when_database_is_back(exc)
            except Run.DoesNotExist:  # deleted while watched
                await asyncio.gather(
                    *(v.close(code=CLOSE_FORBIDDEN) for v in list(self.viewers)),
                    return_exceptions=True,
                )
                return

    async def push(self):
        viewers = list(self.viewers)
        sinces = {viewer.since for viewer in viewers}
        # not on the thread every sync view of this server shares: a slow page elsewhere
        # (an instructor's panel) must not hold back a whole class's pushes
        render = database_sync_to_async(render_for, thread_sensitive=False)
        last_seq, rendered = await render(self.run_id, sinces)
        self.renders += len(rendered)
        sends = []
        for viewer in viewers:
            if viewer in self.viewers:
                html, viewer.since = rendered[viewer.since], last_seq
                sends.append(viewer.send(text_data=html))
        results = await asyncio.gather(*sends, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.info("push not delivered: %r", result, extra={"run_id": self.run_id})
