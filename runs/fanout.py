"""One render per run, shared by all its viewers in this server process.

A run watched by a whole class (its page open on 100 screens, the projector's spotlight)
must not be rendered 100 times per wake-up, nor woken 100 times. Every socket of a run
joins the run's Audience, and only the audience listens on the run's group: one channel per
run and process, so a wake-up is one message to this process, not one per socket. A
wake-up marks the audience dirty and a single pusher renders when due (at most
1 / push_interval a second): the run is read and its fragments rendered once for each
distinct point viewers are at (`since`: all viewers in step share one render; one who just
connected gets the full state), in a thread, never on the event loop; the same text is sent
to each of them, those in step first. An access hint to the
group is passed on to every viewer. A render that meets an unreachable database is tried
again until it is back; the sockets stay open.

Access is re-checked on a timer for the whole audience at once (who of its viewers may still
watch, in one read: runs.permissions.who_may_view), not by each socket: a class of 100
sockets costs the database one check per interval, not 100.
"""

import asyncio
import logging
import time

from channels.layers import get_channel_layer

from common.sockets import DATABASE_ERRORS, off_the_server_thread, when_database_is_back
from runs.models import Run, run_group
from runs.permissions import who_may_view

log = logging.getLogger(__name__)


def render_for(run_id, points, panels_due=True):
    """(run.last_seq, {point: (HTML, heavy panels sent, held back)}, CPU seconds this
    thread spent, whether the run has ended) of run `run_id`, read once, rendered once per
    point (since, panels_since) viewers are at (runs.page.render_push)."""
    from runs.page import render_push

    cpu = time.thread_time()
    run = Run.objects.select_related("pack", "upload", "owner").get(pk=run_id)
    rendered = {
        (since, panels_since): render_push(run, since, panels_since, panels_due)
        for since, panels_since in points
    }
    return run.last_seq, rendered, time.thread_time() - cpu, run.is_finished


class Audience:
    """The sockets of one run in this process. A viewer has `since` (the seq of the newest
    event it has been sent; None: nothing yet), `send(text_data=...)`, `access_changed(
    event)` (check the viewer's access now) and `run_gone()` (the run was deleted). A
    viewer whose `access_by_timer` is False (a run page's socket) leaves the timer checks of
    its access to the audience: it has `user`, `access_interval` (seconds between two
    checks) and `lost_access()`. (A spotlight's socket checks its own: it may see the run
    because the class is shown it, not by the run's rules.)"""

    push_interval = 0.1
    # the panels a snapshot or an evaluation changes (the probe line's guesses and attention,
    # the validation points, the diagnostics: most of a push's rendering and bytes) go at
    # most this often; the steps themselves with every push (runs.page.render_push)
    panels_interval = 1.0
    audiences = {}  # run id -> Audience (this process's event loop only)

    def __init__(self, run_id):
        self.run_id = run_id
        self.viewers = set()
        self.dirty = False
        self.last_push = 0.0
        self.last_panels = 0.0  # when the heavy panels were last sent
        self.panels_later = None  # the push that sends panels held back
        self.pusher = None
        self.renders = 0  # for tests and the benchmark: renders per wake-up, not per socket
        self.wakes = 0  # wake-ups this process received for the run (one each, not per socket)
        self.pushes = 0
        self.ended = False
        self.render_cpu = 0.0  # CPU seconds of the renders (time.thread_time: whatever the
        self.send_seconds = 0.0  # machine runs besides) and wall seconds handing out pushes
        self.render_wall = 0.0  # wall seconds from asking for renders to having them
        self.woken_at = None  # when the first wake-up not yet pushed arrived
        # wall seconds from a wake-up to its push handed to every socket: sum, count, max
        self.wake_to_sent = [0.0, 0, 0.0]
        self.access_checks = 0  # timer checks of every viewer's access at once
        self.listening = asyncio.ensure_future(self.listen())
        self.subscribed = asyncio.get_running_loop().create_future()
        self.access_watch = asyncio.ensure_future(self.watch_access())

    @classmethod
    def join(cls, run_id, viewer, since=None):
        """Add `viewer` to the run's audience. Its next push is what changed after `since`
        (None: the whole state); await `ready()` before counting on it."""
        audience = cls.audiences.get(run_id)
        if audience is None:
            audience = cls.audiences[run_id] = cls(run_id)
        viewer.since = viewer.panels_since = since
        audience.viewers.add(viewer)
        return audience

    async def ready(self):
        """Once the audience listens on the run's group (no wake-up after this is missed),
        render for the viewers who joined."""
        await asyncio.shield(self.subscribed)
        self.mark_dirty()

    def leave(self, viewer):
        self.viewers.discard(viewer)
        if not self.viewers and Audience.audiences.get(self.run_id) is self:
            del Audience.audiences[self.run_id]
            if self.pusher:
                self.pusher.cancel()
            if self.panels_later:
                self.panels_later.cancel()
            self.listening.cancel()
            self.access_watch.cancel()

    def figures(self):
        """What this audience cost so far (manage.py load_site reads it from the server's
        log, where it is written when the run has ended)."""
        total, timed, longest = self.wake_to_sent
        return {
            "run_id": self.run_id,
            "wakes": self.wakes,
            "pushes": self.pushes,
            "renders": self.renders,
            "render_cpu_ms": round(1000 * self.render_cpu / max(1, self.renders), 2),
            "send_ms": round(1000 * self.send_seconds / max(1, self.pushes), 2),
            "render_wall_ms": round(1000 * self.render_wall / max(1, self.pushes), 1),
            "wake_to_sent_ms": round(1000 * total / max(1, timed), 1),
            "wake_to_sent_max_ms": round(1000 * longest, 1),
        }

    async def listen(self):
        """Join the run's group with one channel of our own; act on what arrives."""
        layer = get_channel_layer()
        channel = await layer.new_channel()
        group = run_group(self.run_id)
        try:
            await layer.group_add(group, channel)
            self.subscribed.set_result(True)
            while True:
                try:
                    event = await layer.receive(channel)
                except Exception as exc:  # the layer retries Redis itself; anything else
                    log.warning("audience not hearing: %r", exc, extra={"run_id": self.run_id})
                    await asyncio.sleep(1.0)
                    continue
                if event.get("type") == "run.wake":
                    self.wakes += 1
                    self.woken_at = self.woken_at or time.monotonic()
                    self.mark_dirty()
                elif event.get("type") == "access.changed":
                    for viewer in list(self.viewers):
                        asyncio.ensure_future(viewer.access_changed(event))
        except Exception as exc:
            if not self.subscribed.done():
                self.subscribed.set_exception(exc)
            raise
        finally:
            if not self.subscribed.done():
                self.subscribed.cancel()
            # without waiting: the task may be cancelled; a late discard is harmless
            asyncio.ensure_future(layer.group_discard(group, channel))

    async def watch_access(self):
        """Every viewer's access, re-checked together on the (shortest) viewers' interval;
        those who lost it are closed. A database that does not answer skips a round."""
        def checked_here():
            return [viewer for viewer in self.viewers if not viewer.access_by_timer]

        while True:
            intervals = [viewer.access_interval for viewer in checked_here()]
            await asyncio.sleep(min(intervals, default=5.0))
            viewers = checked_here()
            if not viewers:
                continue
            ids = {viewer.user.pk for viewer in viewers if viewer.user.is_authenticated}
            try:
                anyone, allowed = await off_the_server_thread(who_may_view)(self.run_id, ids)
            except DATABASE_ERRORS as exc:
                log.warning("access not checked: %r", exc, extra={"run_id": self.run_id})
                continue
            self.access_checks += 1
            for viewer in viewers:
                if viewer in self.viewers and not (anyone or viewer.user.pk in allowed):
                    asyncio.ensure_future(viewer.lost_access())

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
                    *(v.run_gone() for v in list(self.viewers)), return_exceptions=True
                )
                return

    async def push(self):
        woken_at, self.woken_at = self.woken_at, None
        groups = {}  # (since, panels_since) -> the viewers at that point
        for viewer in list(self.viewers):
            groups.setdefault((viewer.since, viewer.panels_since), []).append(viewer)
        # those in step first (a small delta, rendered in a few ms), then the ones who just
        # joined (the whole state, several times the work): a class opening the page must
        # not hold back the pushes of those already watching
        order = sorted(groups, key=lambda point: (point[0] is None, -(point[0] or 0)))
        panels_due = time.monotonic() >= self.last_panels + self.panels_interval
        self.pushes += 1
        ended, results, panels_held = False, [], False
        for point in order:
            # not on the thread every sync view of this server shares: a slow page elsewhere
            # (an instructor's panel) must not hold back a whole class's pushes
            render = off_the_server_thread(render_for)
            render_started = time.monotonic()
            last_seq, rendered, cpu, at_end = await render(self.run_id, {point}, panels_due)
            ended = ended or at_end
            self.render_wall += time.monotonic() - render_started
            self.renders += len(rendered)
            self.render_cpu += cpu
            started = time.perf_counter()
            (html, panels_sent, held), sends = rendered[point], []
            if panels_sent:
                self.last_panels = time.monotonic()
            panels_held = panels_held or held
            for viewer in groups[point]:
                if viewer in self.viewers and (viewer.since, viewer.panels_since) == point:
                    viewer.since = last_seq
                    if not held:
                        viewer.panels_since = last_seq
                    sends.append(viewer.send(text_data=html))  # the same str for each
            results += await asyncio.gather(*sends, return_exceptions=True)
            self.send_seconds += time.perf_counter() - started
            if woken_at is not None and point[0] is not None:  # a wake-up's push, sent
                took = time.monotonic() - woken_at
                total, timed, longest = self.wake_to_sent
                self.wake_to_sent = [total + took, timed + 1, max(longest, took)]
                woken_at = None
        if panels_held and not ended:  # what was held back goes when due, wake-up or not
            self.push_panels_when_due()
        if ended and not self.ended:  # what watching the run cost this server, once
            self.ended = True
            log.info("audience saw the run end", extra=self.figures())
        for result in results:
            if isinstance(result, Exception):
                log.info("push not delivered: %r", result, extra={"run_id": self.run_id})

    def push_panels_when_due(self):
        if self.panels_later is None or self.panels_later.cancelled():
            wait = max(0.0, self.last_panels + self.panels_interval - time.monotonic())
            self.panels_later = asyncio.get_running_loop().call_later(wait, self.held_panels_due)

    def held_panels_due(self):
        self.panels_later = None
        if any(viewer.panels_since != viewer.since for viewer in self.viewers):
            self.mark_dirty()
