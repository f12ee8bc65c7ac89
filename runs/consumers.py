"""The live socket of a run page: /ws/runs/<id>/.

On connect it sends the whole current state; after that every wake-up from the trainer
is coalesced (common.sockets) to at most ~10 pushes a second, and the terminal
event's wake-up always gets its push.
"""

import asyncio

from common.sockets import CLOSE_FORBIDDEN, CoalescingConsumer
from runs.live import note_server_loop
from runs.models import Run, run_group


class RunConsumer(CoalescingConsumer):
    group = None

    async def connect(self):
        run_id = self.scope["url_route"]["kwargs"]["run_id"]
        if await self.admit(self.may_watch, run_id) is None:
            return
        self.run_id, self.since = run_id, None
        self.group = run_group(run_id)
        note_server_loop(asyncio.get_running_loop())
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.push()  # the full current state

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def run_wake(self, event):
        """A trainer stored something: render again soon (coalesced)."""
        self.mark_dirty()

    async def push(self):
        try:
            await super().push()
        except Run.DoesNotExist:  # deleted while watched
            await self.close(code=CLOSE_FORBIDDEN)

    # --- database side -------------------------------------------------------------------

    @staticmethod
    def may_watch(user, run_id):
        return Run.objects.visible_to(user).filter(pk=run_id).exists()

    def render(self):
        """Everything on the first push, then what changed after the last event sent."""
        from runs.page import render_live

        run = Run.objects.select_related("pack", "upload", "owner").get(pk=self.run_id)
        since, self.since = self.since, run.last_seq
        return render_live(run, since=since)
