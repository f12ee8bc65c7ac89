"""The live socket of a run page: /ws/runs/<id>/.

On connect it gets the whole current state; after that every wake-up from the trainer is
coalesced to at most ~10 pushes a second, and the terminal event's wake-up always gets its
push. The pushes are rendered once per run and shared by all its viewers in this process
(runs.fanout.Audience), not once per socket; the audience, not each socket, listens on the
run's group and passes access hints on.
"""

import asyncio

from common.sockets import CLOSE_FORBIDDEN, CoalescingConsumer
from runs.fanout import Audience
from runs.live import note_server_loop
from runs.models import Run


class RunConsumer(CoalescingConsumer):
    audience = None
    access_by_timer = False  # the audience re-checks all its viewers' access at once
    since = None  # the seq of the newest event this socket was sent (set by the audience)

    async def connect(self):
        run_id = self.scope["url_route"]["kwargs"]["run_id"]
        if await self.admit(self.may_watch, run_id, anonymous_too=True) is None:
            return
        self.run_id = run_id
        note_server_loop(asyncio.get_running_loop())
        await self.accept()
        self.audience = Audience.join(run_id, self)  # the full current state comes first
        await self.audience.ready()

    async def disconnect(self, code):
        await super().disconnect(code)
        if self.audience:
            self.audience.leave(self)
            self.audience = None

    async def run_gone(self):
        """The run was deleted while watched."""
        await self.close(code=CLOSE_FORBIDDEN)

    # --- database side -------------------------------------------------------------------

    @staticmethod
    def may_watch(user, run_id):
        """runs.permissions.can_view: anyone for a showcase run."""
        from runs.permissions import can_view

        run = Run.objects.filter(pk=run_id).select_related("owner").first()
        return run is not None and can_view(user, run)

