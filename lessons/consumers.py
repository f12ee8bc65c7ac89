"""The lesson sockets.

/ws/lessons/classrooms/<id>/  the panel's lesson section (the classroom's instructor only):
                              the student × step matrices and leaderboards, re-rendered
                              after wake-ups of the runs students started for a step, and on
                              classroom hints (a lesson assigned, a reflection written).
/ws/lessons/runs/<id>/        a run page's challenge banner (whoever may see the run):
                              "Challenge met at step 812 ✓" as soon as the check records it.

Both only read what lessons/checking.py stored: the check runs where the events are stored.
"""

import asyncio

from channels.db import database_sync_to_async
from django.template.loader import render_to_string

from classrooms.consumers import BLANKS, ClassroomSocket
from classrooms.live import classroom_group
from classrooms.models import Classroom
from common.sockets import CoalescingConsumer
from lessons.challenges import PENDING
from lessons.models import StepRun
from runs.live import note_server_loop
from runs.models import Run, run_group
from runs.permissions import can_view


class LessonPanelConsumer(ClassroomSocket):
    push_interval = 0.5

    @staticmethod
    def may_watch(user, classroom_id):
        classroom = Classroom.objects.filter(pk=classroom_id).first()
        return classroom is not None and classroom.is_taught_by(user)

    decided = None  # how many of the class's step runs had a verdict at the last refresh

    def active_run_ids(self):
        step_runs = StepRun.objects.filter(assignment__classroom_id=self.classroom_id)
        active = list(
            step_runs.filter(run__status__in=(Run.Status.QUEUED, Run.Status.RUNNING))
            .values_list("run_id", flat=True)
        )
        return active, step_runs.exclude(verdict=PENDING).count()

    async def refresh_runs(self):
        active, decided = await database_sync_to_async(self.active_run_ids)()
        wanted = {run_group(run_id) for run_id in active} | {classroom_group(self.classroom_id)}
        # a run that started and ended between two refreshes was never watched: its verdict
        # still shows within a refresh, as the count of decided step runs moves
        changed = wanted != self.groups_joined or decided != self.decided
        self.decided = decided
        for group in wanted - self.groups_joined:
            await self.join(group)
        for group in self.groups_joined - wanted:
            await self.leave(group)
        return changed

    def render(self):
        from lessons.views import panel_context

        classroom = Classroom.objects.filter(pk=self.classroom_id).first()
        if classroom is None:
            return ""
        context = {**panel_context(classroom), "oob": True}
        html = render_to_string("lessons/panel_section.html#matrices", context)
        return BLANKS.sub("\n", html)


class RunChallengeConsumer(CoalescingConsumer):
    push_interval = 0.5
    refresh_interval = 5.0  # a lost wake-up is made good within this many seconds
    refresher = None

    async def connect(self):
        self.run_id = self.scope["url_route"]["kwargs"]["run_id"]
        user = await self.admit(self.may_watch, self.run_id)
        if user is None:
            return
        note_server_loop(asyncio.get_running_loop())  # in-memory wake-ups are sent here
        await self.channel_layer.group_add(run_group(self.run_id), self.channel_name)
        await self.accept()
        await self.push()
        self.refresher = asyncio.ensure_future(self.refresh_forever())

    async def refresh_forever(self):
        while True:
            await asyncio.sleep(self.refresh_interval)
            self.mark_dirty()

    @staticmethod
    def may_watch(user, run_id):
        run = Run.objects.filter(pk=run_id).first()
        return run is not None and can_view(user, run)

    async def run_wake(self, event):
        self.mark_dirty()

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.refresher:
            self.refresher.cancel()
        await self.channel_layer.group_discard(run_group(self.run_id), self.channel_name)

    def render(self):
        from lessons.views import banner_context

        run = Run.objects.filter(pk=self.run_id).first()
        if run is None:
            return ""
        context = {**banner_context(run), "oob": True}
        if context["step_run"] is None:
            return ""
        return render_to_string("lessons/run_banner.html#challenge", context)
