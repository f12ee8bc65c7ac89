"""The classroom sockets.

/ws/classrooms/<id>/            the instructor's panel (that classroom's instructor only):
                                roster, class overlay and funnel, re-rendered from the
                                database after wake-ups of any of the class's runs.
/ws/classrooms/<id>/spotlight/  the projector page (the instructor and the class's
                                students): the spotlighted run's live partials; a new
                                choice on the panel swaps the whole stage on every page.

The trainer wakes only `run.<id>`; these sockets join the groups of the class's active
runs themselves, and learn of new runs from `classroom.<id>` hints (classrooms/signals.py)
and a periodic refresh, so runs/ needs no change for them.
"""

import asyncio
import re
import time

from channels.db import database_sync_to_async
from django.template.loader import render_to_string

from classrooms import funnel, panel, spotlight
from classrooms.live import classroom_group
from classrooms.models import Classroom
from common.sockets import CoalescingConsumer
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
    overlay_cache = None
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
        active = await database_sync_to_async(self.active_run_ids)()
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
        if self.overlay_cache is None:
            self.overlay_cache = {}
        if time.monotonic() - self.funnel_at > self.funnel_max_age:
            self.funnel_counts, self.funnel_at = funnel.counts(classroom), time.monotonic()
        context = panel.context(
            classroom, overlay_cache=self.overlay_cache, funnel_counts=self.funnel_counts
        )
        context["oob"] = True
        html = "".join(
            render_to_string(f"classrooms/panel.html#{name}", context)
            for name in ("roster", "overlay", "funnel")
        )
        # the template's indentation is half a thirty-student roster: any run of whitespace
        # holding a line break becomes that line break (the same page to the browser)
        return BLANKS.sub("\n", html)


class SpotlightConsumer(ClassroomSocket):
    """The spotlighted run, live; follows the instructor's choice."""

    push_interval = 0.1  # like the run page

    def prepare(self):
        self.run_id, self.since, self.whole_stage = None, None, True

    @staticmethod
    def may_watch(user, classroom_id):
        classroom = Classroom.objects.filter(pk=classroom_id).first()
        return classroom is not None and (
            classroom.is_taught_by(user) or classroom.has_member(user)
        )

    async def refresh_runs(self):
        """Watch the spotlighted run's group (if this viewer may see it). True when the
        spotlight moved to another run."""
        run_id = await database_sync_to_async(self.visible_spotlight_id)()
        if run_id == self.run_id:
            return False
        if self.run_id is not None and self.run_id > 0:
            await self.leave(run_group(self.run_id))
        if run_id is not None and run_id > 0:
            await self.join(run_group(run_id))
        self.run_id, self.whole_stage = run_id, True
        return True

    def visible_spotlight_id(self):
        classroom = Classroom.objects.filter(pk=self.classroom_id).first()
        if classroom is None:
            return None
        run, may_see = spotlight.spotlight_run(classroom, self.user)
        if run is None:
            return None
        return run.pk if may_see else -run.pk  # a run they may not see still moves the stage

    async def classroom_changed(self, event):
        if await self.refresh_runs():
            self.mark_dirty()

    def render(self):
        from runs.page import render_live

        if self.whole_stage:
            self.whole_stage = False
            classroom = Classroom.objects.filter(pk=self.classroom_id).first()
            if classroom is None:
                return ""
            html, self.since = spotlight.render_stage(self.user, classroom)
            return html
        if self.run_id is None or self.run_id < 0:
            return ""
        run = Run.objects.select_related("pack", "upload", "owner").get(pk=self.run_id)
        since, self.since = self.since, run.last_seq
        return render_live(run, since=since)
