"""What every live socket of the lab shares: refusing with a close code the browser can
see, and coalescing wake-ups so a viewer gets at most one render per `push_interval`.

State first, pushes as hints: a wake-up only marks the socket dirty; a single pusher task
renders from the database when due, so however fast a run goes, the socket sends at most
1 / push_interval messages a second, and a wake-up never goes unanswered.
"""

import asyncio
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class CoalescingConsumer(AsyncWebsocketConsumer):
    push_interval = 0.1
    pusher = None
    dirty = False
    last_push = 0.0

    async def admit(self, may_watch, *args):
        """Accept the socket if `may_watch(user, *args)` (run in a thread) says so; else
        close it with 4401 (anonymous) or 4403. Returns the user, or None when refused."""
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return None
        if not await database_sync_to_async(may_watch)(user, *args):
            await self.refuse(CLOSE_FORBIDDEN)
            return None
        return user

    async def refuse(self, code):
        # accept first, so the browser sees our close code rather than a failed handshake
        await self.accept()
        await self.close(code=code)

    def mark_dirty(self):
        self.dirty = True
        if self.pusher is None or self.pusher.done():
            self.pusher = asyncio.ensure_future(self.push_when_due())

    async def push_when_due(self):
        while self.dirty:
            wait = self.last_push + self.push_interval - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.push()

    async def push(self):
        self.dirty = False
        self.last_push = time.monotonic()
        html = await database_sync_to_async(self.render)()
        if html:
            await self.send(text_data=html)

    async def disconnect(self, code):
        if self.pusher:
            self.pusher.cancel()

    def render(self):
        """HTML of the out-of-band fragments to send now ("" for nothing); runs in a thread."""
        raise NotImplementedError
