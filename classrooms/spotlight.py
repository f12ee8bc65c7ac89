"""The projector page `/classrooms/<id>/spotlight/`: one run, large, live.

It shows the run page's own live partials (runs/page.py, templates/runs/detail.html), so
the spotlight and the run page always agree; this module picks the run, checks that the
viewer may see it, and renders the stage once for all the sockets that show the same one.

A class watching the projector page on thirty screens costs one render per change, not
thirty: the whole stage (on connect, and when the instructor picks another run) is rendered
once per (classroom, run, whether the viewer may see it) and shared by the sockets that
ask within STAGE_FRESH_SECONDS (runs/fanout.py's Audience then pushes the run's changes
from the seq the stage was rendered at, once for all of them).
"""

import asyncio
import time

from django.template.loader import render_to_string

from classrooms.models import Classroom
from common.sockets import off_the_server_thread
from runs.models import Run
from runs.permissions import can_view

STAGE_FRESH_SECONDS = 2.0  # a stage this young is sent as it is (the pushes catch up)


def spotlight_run(classroom, user):
    """(run, may_see): the spotlighted run (or None) and whether `user` may watch it."""
    run_id = Classroom.objects.filter(pk=classroom.pk).values_list("spotlight_run", flat=True)
    run_id = run_id.first()
    if run_id is None:
        return None, False
    run = Run.objects.select_related("owner", "pack", "upload").filter(pk=run_id).first()
    if run is None:
        return None, False
    return run, can_view(user, run)


def stage_context(classroom, run, may_see):
    from runs.page import page_context, snapshot_context

    ctx = {"classroom": classroom, "run": run, "may_see": may_see}
    if run is not None and may_see:
        ctx.update(page_context(run))
        ctx.update(snapshot_context(run, following=True))
    return ctx


def context(user, classroom):
    run, may_see = spotlight_run(classroom, user)
    return stage_context(classroom, run, may_see)


def render_stage(classroom, run, may_see):
    """The whole stage as an out-of-band fragment, and the seq of the run it covers (None
    when it shows no run's state). Nothing in it depends on who watches beyond `may_see`."""
    ctx = {**stage_context(classroom, run, may_see), "stage_oob": True}
    html = render_to_string("classrooms/spotlight.html#stage", ctx)
    return html, (run.last_seq if run is not None and may_see else None)


def render_stage_of(classroom_id, run_id, may_see):
    """render_stage, read fresh: ("", None) when the classroom is gone."""
    classroom = Classroom.objects.filter(pk=classroom_id).first()
    if classroom is None:
        return "", None
    run = None
    if run_id is not None:
        run = Run.objects.select_related("owner", "pack", "upload").filter(pk=run_id).first()
    return render_stage(classroom, run, may_see and run is not None)


class SharedStage:
    """Stage renders of this process, each shared by the sockets that ask for the same
    stage within STAGE_FRESH_SECONDS (including while it is being rendered)."""

    stages = {}  # (loop, classroom id, shown) -> (monotonic time, future of (html, seq))
    renders = 0  # for tests: stage renders, not sockets served

    @classmethod
    async def get(cls, classroom_id, shown):
        """(html, seq) of the stage of `classroom_id` showing `shown`: None (no run), or
        (run id, run created_at, may_see)."""
        loop = asyncio.get_running_loop()
        key = (id(loop), classroom_id, shown)
        now = time.monotonic()
        kept = cls.stages.get(key)
        if kept is None or now - kept[0] > STAGE_FRESH_SECONDS or cls.failed(kept[1]):
            for old in [k for k, (at, _) in cls.stages.items() if now - at > STAGE_FRESH_SECONDS]:
                del cls.stages[old]
            run_id, may_see = (None, False) if shown is None else (shown[0], shown[2])
            render = off_the_server_thread(render_stage_of)
            future = asyncio.ensure_future(render(classroom_id, run_id, may_see))
            kept = cls.stages[key] = (now, future)
            cls.renders += 1
        return await asyncio.shield(kept[1])

    @staticmethod
    def failed(future):
        return future.done() and (future.cancelled() or future.exception() is not None)
