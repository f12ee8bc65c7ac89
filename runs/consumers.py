"""The live socket of a run page: /ws/runs/<id>/.

On connect it gets the whole current state; after that every wake-up from the trainer is
coalesced to at most ~10 pushes a second, and the terminal event's wake-up always gets its
push. The pushes are rendered once per run and shared by all its viewers in this process
(runs.fanout.Audience), not once per socket.
"""

import asyncio

from common.sockets import CoalescingConsumer
from runs.fanout import Audience
from runs.live import note_server_loop
from runs.models import Run, run_group


class RunConsumer(CoalescingConsumer):
    group = None
    audience = None
    since = None  # the seq of the newest event this socket was sent (set by the audience)

    async def connect(self):
        run_id = self.scope["url_route"]["kwargs"]["run_id"]
        if await self.admit(self.may_watch, run_id, anonymous_too=True) is None:
            return
        self.run_id = run_id
        self.group = run_group(run_id)
        note_server_loop(asyncio.get_running_loop())
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        self.audience = Audience.join(run_id, self)  # the full current state comes first

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.audience:
            self.audience.leave(self)
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def run_wake(self, event):
        """A trainer stored something: the audience renders again soon (coalesced)."""
        if self.audience:
            self.audience.mark_dirty()

    # --- database side -------------------------------------------------------------------

    @staticmethod
    def may_watch(user, run_id):
        """runs.permissions.can_view: anyone for a showcase run."""
        from runs.permissions import can_view

        run = Run.objects.filter(pk=run_id).select_related("owner").first()
        return run is not None and can_view(user, run)

