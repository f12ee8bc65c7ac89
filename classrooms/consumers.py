"""The classroom sockets.

/ws/classrooms/<id>/            the instructor's panel (that classroom's instructor only):
                                roster, class overlay and funnel, re-rendered from the
                                database after wake-ups of any of the class's runs.
/ws/classrooms/<id>/spotlight/  the projector page (the instructor and the class's
                                students): the spotlighted run's live partials; a new
                                choice on the panel swaps the whole stage on every page.
                                The stage is rendered once for all the sockets showing it,
                                the run's pushes once for all its viewers (runs/fanout.py).

The trainer wakes only `run.<id>`; the panel joins the groups of the class's active runs
itself (the spotlight follows its run through the run's audience), and both learn of new
runs from `classroom.<id>` hints (classrooms/signals.py) and a periodic refresh, so runs/
needs no change for them.
"""

import asyncio
import re
import time

from django.template.loader import render_to_string

from classrooms import funnel, panel, spotlight
from classrooms.live import classroom_group
from classrooms.models import Classroom
from common.sockets import CoalescingConsumer, off_the_server_thread
from runs.fanout import Audience
from runs.live import note_server_loop
from runs.models import Run, run_group

BLANKS = re.compile(r"\s*\n\s*")


class ClassroomSocket(CoalescingConsumer):
    """A classroom socket: joins the groups of the runs it shows and re-reads them on hints
    and every refresh_interval."""

    refresh_interval = 5.0  # re-read which runs to watch, even without hints
    groups_joined = ()
    refresher = None

    async def connect(self):
        classroom_id = self.scope["url_route"]["kwargs"]["classroom_id"]
        user = await self.admit(self.may_watch, classroom_id)
        if user is None:
            return
        self.user, self.classroom_id = user, classroom_id
        self.groups_joined = set()
        self.prepare()
        note_server_loop(asyncio.get_running_loop())
        await self.join(classroom_group(classroom_id))
        await self.accept()
        await self.refresh_runs()
        await self.push()
        self.refresher = asyncio.ensure_future(self.refresh_forever())

    def prepare(self):
        """Per-socket state, set before the first render."""

    async def join(self, group):
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def leave(self, group):
        if group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)
            self.groups_joined.discard(group)

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.refresher:
            self.refresher.cancel()
        for group in list(self.groups_joined):
            await self.leave(group)

    async def refresh_forever(self):
        # (a student removed, or a classroom deleted, loses the socket: CoalescingConsumer
        # checks access on its own timer and on hints)
        while True:
            await asyncio.sleep(self.refresh_interval)
            if await self.refresh_runs():
                self.mark_dirty()

    async def run_wake(self, event):
        self.mark_dirty()

    async def classroom_changed(self, event):
        await self.refresh_runs()
        self.mark_dirty()

    async def refresh_runs(self):  # pragma: no cover (overridden)
        return False

    @staticmethod
    def may_watch(user, classroom_id):  # pragma: no cover (overridden)
        return False


class ClassroomPanelConsumer(ClassroomSocket):
    """Live roster, overlay and funnel for the classroom's instructor."""

    push_interval = 0.5  # the whole overlay goes with each push
    funnel_max_age = 5.0  # seconds; a hint (join, leave, new run) refreshes it at once
    funnel_counts, funnel_at = None, 0.0

    @staticmethod
    def may_watch(user, classroom_id):
        classroom = Classroom.objects.filter(pk=classroom_id).first()
        return classroom is not None and classroom.is_taught_by(user)

    async def classroom_changed(self, event):
        self.funnel_at = 0.0  # someone joined, left or started a run
        await super().classroom_changed(event)

    async def refresh_runs(self):
        """Join the groups of the class's active runs; leave finished ones (after the push
        that shows them finished). True when the set changed."""
        active = await off_the_server_thread(self.active_run_ids)()
        wanted = {run_group(run_id) for run_id in active} | {classroom_group(self.classroom_id)}
        changed = wanted != self.groups_joined
        for group in wanted - self.groups_joined:
            await self.join(group)
        for group in self.groups_joined - wanted:
            await self.leave(group)
        return changed

    def active_run_ids(self):
        return list(
            Run.objects.active()
            .filter(owner__classrooms=self.classroom_id)
            .values_list("pk", flat=True)
        )

    def render(self):
        classroom = Classroom.objects.filter(pk=self.classroom_id).first()
        if classroom is None:
            return ""
        if time.monotonic() - self.funnel_at > self.funnel_max_age:
            self.funnel_counts, self.funnel_at = funnel.counts(classroom), time.monotonic()
        context = panel.context(classroom, funnel_counts=self.funnel_counts)
        context["oob"] = True
        html = "".join(
            render_to_string(f"classrooms/panel.html#{name}", context)
            for name in ("roster", "overlay", "funnel")
        )
        # the template's indentation is half a thirty-student roster: any run of whitespace
        # holding a line break becomes that line break (the same page to the browser)
        return BLANKS.sub("\n", html)


class SpotlightConsumer(ClassroomSocket):
    """The spotlighted run, live; follows the instructor's choice. The whole stage is
    rendered once for every socket of this process showing it (spotlight.SharedStage); the
    run's changes after it come from the run's Audience (runs/fanout.py), rendered once
    for all its viewers, the run page's too."""

    audience = None
    since = None  # the seq of the newest event this socket was sent (set by the audience)

    def prepare(self):
        self.shown = None  # None, or (run id, created_at, may_see)

    @staticmethod
    def may_watch(user, classroom_id):
        classroom = Classroom.objects.filter(pk=classroom_id).first()
        return classroom is not None and (
            classroom.is_taught_by(user) or classroom.has_member(user)
        )

    async def refresh_runs(self):
        """Note which run the stage shows to this viewer. True when it changed (the
        spotlight moved, or the viewer's right to see it did)."""
        shown = await off_the_server_thread(self.visible_spotlight)()
        if shown == self.shown:
            return False
        self.shown = shown
        self.leave_audience()  # no push of the run shown before from now on
        return True

    def visible_spotlight(self):
        classroom = Classroom.objects.filter(pk=self.classroom_id).first()
        if classroom is None:
            return None
        run, may_see = spotlight.spotlight_run(classroom, self.user)
        return None if run is None else (run.pk, run.created_at, may_see)

    async def classroom_changed(self, event):
        if await self.refresh_runs():
            self.mark_dirty()

    async def access_changed(self, event):
        """Membership or sharing changed: still in the class? still allowed to see the run?"""
        await super().access_changed(event)
        if await self.refresh_runs():
            self.mark_dirty()

    async def push(self):
        """Send the whole stage (shared), then follow its run from the stage's seq."""
        self.dirty = False
        self.last_push = time.monotonic()
        shown = self.shown
        html, since = await spotlight.SharedStage.get(self.classroom_id, shown)
        if shown != self.shown:  # moved while rendering: the next push sends the new one
            return
        if html:
            await self.send(text_data=html)
        self.leave_audience()
        if shown is not None and shown[2] and since is not None:
            self.audience = Audience.join(shown[0], self, since=since)
            await self.audience.ready()

    def leave_audience(self):
        if self.audience is not None:
            self.audience.leave(self)
            self.audience = None

    async def disconnect(self, code):
        self.leave_audience()
        await super().disconnect(code)

    async def run_gone(self):
        """The spotlighted run was deleted: show what the stage shows now."""
        if await self.refresh_runs():
            self.mark_dirty()
