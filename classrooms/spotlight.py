"""The projector page `/classrooms/<id>/spotlight/`: one run, large, live.

It shows the run page's own live partials (runs/page.py, templates/runs/detail.html), so
the spotlight and the run page always agree; this module only picks the run and checks
that the viewer may see it."""

from django.template.loader import render_to_string

from classrooms.models import Classroom
from runs.models import Run
from runs.permissions import can_view


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


def context(user, classroom):
    from runs.page import page_context, snapshot_context

    run, may_see = spotlight_run(classroom, user)
    ctx = {"classroom": classroom, "run": run, "may_see": may_see}
    if run is not None and may_see:
        ctx.update(page_context(run))
        ctx.update(snapshot_context(run, following=True))
    return ctx


def render_stage(user, classroom):
    """The whole stage as an out-of-band fragment, and the seq of the run it covers."""
    ctx = {**context(user, classroom), "stage_oob": True}
    html = render_to_string("classrooms/spotlight.html#stage", ctx)
    run = ctx["run"]
    return html, (run.last_seq if run is not None and ctx["may_see"] else None)
