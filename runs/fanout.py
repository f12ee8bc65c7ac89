"""One render per run, shared by all its viewers in this server process.

A run watched by a whole class (its page open on 100 screens, the projector's spotlight)
must not be rendered 100 times per wake-up, nor woken 100 times. Every socket of a run
joins the run's Audience, and only the audience listens on the run's group: one channel per
run and process, so a wake-up is one message to this process, not one per socket. A
wake-up marks the audience dirty and a single pusher renders when due (at most
1 / push_interval a second): the run is read and its fragments rendered once for each
distinct point viewers are at (`since`: all viewers in step share one render; one who just
connected gets the full state), in a thread, never on the event loop; the same text is sent
to each of them, those in step first. A push carries the new steps (the status line, the
losses, new samples); the heavy panels a snapshot or an evaluation changes follow apart,
about once every `panels_interval` on the wall clock's ticks (at once when the run ends),
from where each viewer last had them, so a slow panel render never holds back the steps.
The site's server processes share the renders of the same window of the same run through
the shared cache (shared_render): woken by the same flush, one renders and the others take
its render. An access hint to the
group is passed on to every viewer. A render that meets an unreachable database is tried
again until it is back; the sockets stay open.

Access is re-checked on a timer for the whole audience at once (who of its viewers may still
watch, in one read: runs.permissions.who_may_view), not by each socket: a class of 100
sockets costs the database one check per interval, not 100.
"""

import asyncio
import contextlib
import logging
import math
import time

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError

from common.sockets import DATABASE_ERRORS, off_the_server_thread, when_database_is_back
from runs.models import Run, run_group
from runs.permissions import who_may_view

log = logging.getLogger(__name__)
CACHE_ERRORS = (RedisError, OSError)


def render_for(run_id, since, steps=True, panels=True):
    """(run.last_seq, (HTML, whether the heavy panels have news), CPU seconds this thread
    spent, whether the run has ended, whether another server process rendered it) of run
    `run_id` after seq `since`, read once (runs.page.render_push: its steps part, its
    panels part, or both), and shared with the site's other server processes
    (shared_render)."""
    from runs.page import render_push

    cpu = time.thread_time()
    run = Run.objects.select_related("pack", "upload", "owner").get(pk=run_id)
    rendered, elsewhere = shared_render(
        push_key(run, since, steps, panels),
        lambda: render_push(run, since, steps=steps, panels=panels),
    )
    return run.last_seq, rendered, time.thread_time() - cpu, run.is_finished, elsewhere


SHARED_RENDER_SECONDS = 10  # how long a shared render is kept (a push is due within 1 s)
SHARED_RENDER_WAIT = 0.5  # how long to wait for another process's render before our own


def push_key(run, since, steps, panels):
    """The cache key of a push render, or None when it is not shared: everything the render
    reads is fixed by it (the events up to last_seq; the run's row fields the status line
    shows, which a flush, a cancel or an end changes). A queued run's status line shows its
    place in the queue, which moves without its row changing: never shared; nor a newcomer's
    whole-state render (one per viewer joining, rarely the same twice)."""
    if since is None or run.status == Run.Status.QUEUED:
        return None
    state = (run.last_seq, run.status, run.current_step, run.cancel_requested,
             run.worker_losses, run.heartbeat_at.timestamp() if run.heartbeat_at else 0)
    return f"push:{run.pk}:{since}:{int(steps)}{int(panels)}:" + ":".join(map(str, state))


def shared_render(key, render):
    """(render(), whether another process rendered it), done once on the site: the server
    processes of a run's viewers (each has its audience) are woken by the same flush and
    would render the same push. The first to ask renders and keeps the result a few seconds
    in the shared cache (Redis); the others wait for it (at most SHARED_RENDER_WAIT, then
    render themselves). Without a shared cache (the embedded lab is one process), or when
    Redis does not answer, every process renders its own: a push never waits on the cache."""
    if key is None or not settings.REDIS_URL:
        return render(), False
    try:
        kept = cache.get(key)
        if kept is not None:
            return kept, True
        mine = cache.add(f"{key}:rendering", 1, timeout=SHARED_RENDER_SECONDS)
        if not mine:  # another process is rendering it
            deadline = time.monotonic() + SHARED_RENDER_WAIT
            while time.monotonic() < deadline:
                time.sleep(0.005)
                kept = cache.get(key)
                if kept is not None:
                    return kept, True
    except CACHE_ERRORS as exc:
        log.info("push rendered here, the shared cache did not answer: %r", exc)
        return render(), False
    rendered = render()
    with contextlib.suppress(*CACHE_ERRORS):
        cache.set(key, rendered, timeout=SHARED_RENDER_SECONDS)
    return rendered, False


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
    # the validation points, the diagnostics: most of a push's rendering and bytes) go about
    # this often (next_panels_tick); the steps themselves with every push (render_push)
    panels_interval = 1.0
    audiences = {}  # run id -> Audience (this process's event loop only)

    def __init__(self, run_id):
        self.run_id = run_id
        self.viewers = set()
        self.dirty = False
        self.last_push = 0.0
        self.last_panels = 0.0  # when the heavy panels were last sent (time.time())
        self.panels_pusher = None
        self.panels_now = asyncio.Event()  # the run ended: its last panels go at once
        self.pusher = None
        self.renders = 0  # for tests and the benchmark: renders per wake-up, not per socket
        self.renders_shared = 0  # of which another server process did (shared_render)
        self.wakes = 0  # wake-ups this process received for the run (one each, not per socket)
        self.pushes = 0
        self.ended = False
        self.render_cpu = 0.0  # CPU seconds of the renders (time.thread_time: whatever the
        self.send_seconds = 0.0  # machine runs besides) and wall seconds handing out pushes
        self.render_wall = 0.0  # wall seconds from asking for renders to having them
        self.woken_at = None  # when the first wake-up not yet pushed arrived
        # wall seconds from a wake-up to its push handed to every socket: sum, count, max
        self.wake_to_sent = [0.0, 0, 0.0]
        self.wake_delivery = [0.0, 0, 0.0]  # seconds from the flush to its wake-up here
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
        # panels_since: the seq the viewer's heavy panels show; news_upto: the newest seq it
        # was sent steps at whose window had panel news (newer than panels_since: stale)
        viewer.since = viewer.panels_since = viewer.news_upto = since
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
            if self.panels_pusher:
                self.panels_pusher.cancel()
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
            "renders_shared": self.renders_shared,
            "render_cpu_ms": round(1000 * self.render_cpu / max(1, self.renders), 2),
            "send_ms": round(1000 * self.send_seconds / max(1, self.pushes), 2),
            "render_wall_ms": round(1000 * self.render_wall / max(1, self.pushes), 1),
            "wake_to_sent_ms": round(1000 * total / max(1, timed), 1),
            "wake_to_sent_max_ms": round(1000 * longest, 1),
            "wake_delivery_ms": round(
                1000 * self.wake_delivery[0] / max(1, self.wake_delivery[1]), 1
            ),
            "wake_delivery_max_ms": round(1000 * self.wake_delivery[2], 1),
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
                    if event.get("sent_at"):  # from the trainer's flush to here
                        took = max(0.0, time.time() - event["sent_at"])
                        self.wake_delivery = [
                            self.wake_delivery[0] + took, self.wake_delivery[1] + 1,
                            max(self.wake_delivery[2], took),
                        ]
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
        groups = {}  # since -> the viewers at that point
        for viewer in list(self.viewers):
            groups.setdefault(viewer.since, []).append(viewer)
        # those in step first (a small delta, rendered in a few ms), then the ones who just
        # joined (the whole state, several times the work): a class opening the page must
        # not hold back the pushes of those already watching
        order = sorted(groups, key=lambda since: (since is None, -(since or 0)))
        self.pushes += 1
        ended, results = False, []
        for since in order:
            # not on the thread every sync view of this server shares: a slow page elsewhere
            # (an instructor's panel) must not hold back a whole class's pushes
            render = off_the_server_thread(render_for)
            render_started = time.monotonic()
            whole = since is None  # a newcomer gets everything, the panels too
            last_seq, (html, news), cpu, at_end, elsewhere = await render(
                self.run_id, since, steps=True, panels=whole
            )
            ended = ended or at_end
            self.render_wall += time.monotonic() - render_started
            self.renders += 1
            self.renders_shared += elsewhere
            self.render_cpu += cpu
            started = time.perf_counter()
            sends = []
            for viewer in groups[since]:
                if viewer in self.viewers and viewer.since == since:
                    viewer.since = last_seq
                    if whole:
                        viewer.panels_since = viewer.news_upto = last_seq
                    elif news:
                        viewer.news_upto = last_seq
                    sends.append(viewer.send(text_data=html))  # the same str for each
            results += await asyncio.gather(*sends, return_exceptions=True)
            self.send_seconds += time.perf_counter() - started
            if woken_at is not None and since is not None:  # a wake-up's push, sent
                took = time.monotonic() - woken_at
                total, timed, longest = self.wake_to_sent
                self.wake_to_sent = [total + took, timed + 1, max(longest, took)]
                woken_at = None
        if ended:
            self.panels_now.set()
        if self.stale_panels() and (self.panels_pusher is None or self.panels_pusher.done()):
            self.panels_pusher = asyncio.ensure_future(self.push_panels_when_due())
        if ended and not self.ended:  # what watching the run cost this server, once
            self.ended = True
            log.info("audience saw the run end", extra=self.figures())
        self.log_failed(results)

    def stale_panels(self):
        """{panels_since: viewers} of the viewers whose heavy panels are behind."""
        groups = {}
        for viewer in self.viewers:
            if viewer.since is not None and viewer.news_upto > viewer.panels_since:
                groups.setdefault(viewer.panels_since, []).append(viewer)
        return groups

    def next_panels_tick(self):
        """When the heavy panels may go next: the first whole multiple of panels_interval
        of the wall clock after the last push plus half an interval. Every server process
        of the site keeps the same ticks, so their viewers' panels are rendered at the same
        moments, from the same points: once on the site (shared_render)."""
        interval = self.panels_interval
        earliest = self.last_panels + interval / 2
        return (math.floor(earliest / interval) + 1) * interval

    async def push_panels_when_due(self):
        """Send the heavy panels to the viewers whose panels are behind, on the next tick
        (next_panels_tick; at once when the run ended), each from where it last had them."""
        while groups := self.stale_panels():
            wait = self.next_panels_tick() - time.time()
            if wait > 0 and not self.panels_now.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.panels_now.wait(), timeout=wait)
            # the steps first: the panels render right after a push of them, not beside it
            # (both in this process's threads, one lock on Python), until the next wake-up
            while self.pusher is not None and not self.pusher.done():
                await asyncio.wait({self.pusher})
            groups = self.stale_panels()
            self.panels_now.clear()
            self.last_panels = time.time()
            results = []
            for panels_since, viewers in groups.items():
                render = off_the_server_thread(render_for)
                try:
                    last_seq, (html, _), cpu, _, elsewhere = await render(
                        self.run_id, panels_since, steps=False, panels=True
                    )
                except DATABASE_ERRORS as exc:
                    await when_database_is_back(exc)
                    break
                except Run.DoesNotExist:  # the steps' pusher tells the viewers
                    return
                self.renders += 1
                self.renders_shared += elsewhere
                self.render_cpu += cpu
                sends = []
                for viewer in viewers:
                    if viewer in self.viewers and viewer.panels_since == panels_since:
                        viewer.panels_since = last_seq
                        sends.append(viewer.send(text_data=html))
                results += await asyncio.gather(*sends, return_exceptions=True)
            self.log_failed(results)

    def log_failed(self, results):
        for result in results:
            if isinstance(result, Exception):
                log.info("push not delivered: %r", result, extra={"run_id": self.run_id})
