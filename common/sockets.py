"""What every live socket of the lab shares: refusing with a close code the browser can
see, keeping access checked while open, a cap on one user's open sockets, and coalescing
wake-ups so a viewer gets at most one render per `push_interval`.

Access is checked on connect, again every `access_interval` seconds, and at once on an
"access.changed" hint (a student removed from a classroom, a run unshared: see
`hint_access_changed`); a socket whose viewer lost access closes with 4403.

State first, pushes as hints: a wake-up only marks the socket dirty; a single pusher task
renders from the database when due, so however fast a run goes, the socket sends at most
1 / push_interval messages a second, and a wake-up never goes unanswered. A render that
meets an unreachable database is tried again every DATABASE_RETRY_SECONDS until it is
back: the socket stays open and the viewer gets the state then.
"""

import asyncio
import contextlib
import functools
import logging
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
DATABASE_ERRORS = (OperationalError, InterfaceError)
DATABASE_RETRY_SECONDS = 1.0


async def when_database_is_back(exc):
    """Pause before trying a render again (database_sync_to_async drops the broken
    connection when it next runs, and the retry opens a fresh one)."""
    log.warning("render postponed, database unreachable: %r", exc)
    await asyncio.sleep(DATABASE_RETRY_SECONDS)


# The few threads the sockets read the database in: each keeps its connection (a bounded
# number, however many sockets: the database's connections are shared by every process).
SOCKET_THREAD_COUNT = 4
SOCKET_THREADS = ThreadPoolExecutor(
    max_workers=SOCKET_THREAD_COUNT, thread_name_prefix="lab-sockets"
)


def wait_for_socket_threads(timeout=10.0):
    """Return once every job handed to SOCKET_THREADS before this call has ended (or after
    `timeout`): a job per thread that waits for all the others, so none can run while an
    earlier one is still busy. Tests call it before emptying the database: a render still
    running in a thread after its socket closed would find the tables locked."""
    threads = SOCKET_THREAD_COUNT
    everyone = threading.Barrier(threads + 1)

    def meet():
        with contextlib.suppress(threading.BrokenBarrierError):
            everyone.wait(timeout)

    jobs = [SOCKET_THREADS.submit(meet) for _ in range(threads)]
    try:
        everyone.wait(timeout)
    except threading.BrokenBarrierError:
        log.warning("socket threads still busy after %.0f s", timeout)
    for job in jobs:
        job.result()


def off_the_server_thread(function):
    """database_sync_to_async, in one of SOCKET_THREADS rather than the one thread every
    sync view of this server shares: a class's sockets checking access, or a push being
    rendered, must not queue up the page loads (nor wait for a slow page).

    These threads keep their connections, so one the database has ended (a restart, an
    administrator's terminate) may still sit in a thread: the first error then drops it and
    the function runs once more on a fresh connection, rather than failing every socket
    that thread serves."""

    @functools.wraps(function)
    def on_a_live_connection(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except DATABASE_ERRORS:
            if connection.in_atomic_block:
                raise
            connection.close()
            return function(*args, **kwargs)

    return database_sync_to_async(
        on_a_live_connection, thread_sensitive=False, executor=SOCKET_THREADS
    )


CLOSE_TOO_MANY = 4429  # the user already has LAB_MAX_SOCKETS_PER_USER sockets open

# open sockets per user id, in this server process
open_sockets = Counter()


def user_group(user_id):
    """Every socket of one user: access hints about that user go here."""
    return f"user.{user_id}"


def hint_access_changed(groups):
    """Tell the sockets in `groups` to check their viewer's access now. Never raises (the
    timer catches a lost hint)."""
    layer = get_channel_layer()
    for group in groups:
        try:
            async_to_sync(layer.group_send)(group, {"type": "access.changed"})
        except Exception as exc:
            log.warning("access hint not sent: %r", exc, extra={"group": group})


class CoalescingConsumer(AsyncWebsocketConsumer):
    push_interval = 0.1
    access_interval = 5.0  # seconds between two checks of the viewer's access
    # False: something else re-checks this socket's access on the timer for many sockets at
    # once (a run's audience, runs.fanout); hints are still checked by the socket itself
    access_by_timer = True
    user = None
    pusher = None
    dirty = False
    last_push = 0.0
    counted_user_id = None
    access_watch = None
    access = None

    async def admit(self, may_watch, *args, anonymous_too=False):
        """Accept the socket if `may_watch(user, *args)` (run in a thread) says so; else
        close it with 4401 (anonymous), 4403, or 4429 (too many sockets open). A visitor who
        is not logged in is refused without asking `may_watch`, unless `anonymous_too` (a
        showcase run's page; such sockets are not counted per user). Returns the user, or
        None when refused. The same check runs again while the socket is open."""
        user = self.scope.get("user")
        anonymous = user is None or not user.is_authenticated
        if anonymous and not (anonymous_too and user is not None):
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return None
        if not await off_the_server_thread(may_watch)(user, *args):
            await self.refuse(CLOSE_UNAUTHENTICATED if anonymous else CLOSE_FORBIDDEN)
            return None
        if not anonymous:
            if open_sockets[user.pk] >= settings.LAB_MAX_SOCKETS_PER_USER:
                await self.refuse(CLOSE_TOO_MANY)
                return None
            open_sockets[user.pk] += 1
            self.counted_user_id = user.pk
            await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        self.access = (may_watch, user, args)
        self.user = user
        if self.access_by_timer:
            self.access_watch = asyncio.ensure_future(self.check_access_forever())
        return user

    async def check_access(self):
        """Close with 4403 when the viewer may no longer watch. True while they may."""
        may_watch, user, args = self.access
        if await off_the_server_thread(may_watch)(user, *args):
            return True
        await self.lost_access()
        return False

    async def lost_access(self):
        await self.close(code=CLOSE_FORBIDDEN)

    async def check_access_forever(self):
        while True:
            await asyncio.sleep(self.access_interval)
            if not await self.check_access():
                return

    async def access_changed(self, event):
        """A hint: membership or sharing changed somewhere this viewer may be concerned."""
        if self.access is not None:
            await self.check_access()

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
            try:
                await self.push()
            except DATABASE_ERRORS as exc:
                self.dirty = True
                await when_database_is_back(exc)

    async def push(self):
        self.dirty = False
        self.last_push = time.monotonic()
        html = await off_the_server_thread(self.render)()
        if html:
            await self.send(text_data=html)

    async def disconnect(self, code):
        if self.pusher:
            self.pusher.cancel()
        if self.access_watch:
            self.access_watch.cancel()
        if self.counted_user_id is not None:
            open_sockets[self.counted_user_id] -= 1
            if open_sockets[self.counted_user_id] <= 0:
                del open_sockets[self.counted_user_id]
            await self.channel_layer.group_discard(
                user_group(self.counted_user_id), self.channel_name
            )
            self.counted_user_id = None

    def render(self):
        """HTML of the out-of-band fragments to send now ("" for nothing); runs in a thread."""
        raise NotImplementedError
