"""Starting, listing, canceling and exporting runs. (The live page is runs/page.py.)"""

import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Avg, F
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from common.classroom_hooks import classrooms
from engine import LIMITS
from packs_app.setting_words import SETTINGS, TERMS
from packs_app.sources import UPLOAD_PREFIX, SourceError, resolve_source
from runs import compare
from runs.config import CONFIG_FIELDS
from runs.diagnostics import findings_for
from runs.fork import ForkForm, start_fork
from runs.forms import NewRunForm, limit_text
from runs.models import ActiveRunLimit, Kind, Run, step_loss
from runs.permissions import can_cancel, login_required_unless_showcase, viewable_run
from runs.rerun import rerun_url
from runs.training import SNAPSHOT_BUDGET_BYTES

LIMIT_STATUS = 409  # a 4th active run conflicts with the three already queued or running
SPARK_WIDTH, SPARK_HEIGHT, SPARK_POINTS = 120, 28, 60


def classroom_of(request):
    """The classroom a run is started in (?classroom=<id>), whose rules then apply."""
    value = request.POST.get("classroom") or request.GET.get("classroom")
    if not value:
        return None
    try:
        classroom = classrooms().find(int(value))
    except ValueError:
        classroom = None
    if classroom is None:
        raise Http404("no such classroom")
    return classroom


@login_required
@require_http_methods(["GET", "POST"])
def new_run(request):
    """GET ?pack=<slug>|upload:<id>: the form prefilled with that text's recommended config.
    POST: start the run (redirect to its page) or answer 400 with inline errors (409 when
    the student already has LAB_MAX_ACTIVE_RUNS runs going); nothing is stored on error."""
    classroom = classroom_of(request)
    status, unavailable, pack_changed = 200, "", None
    # the pack menu's change (htmx): only the fields that depend on the text come back
    pack_change = request.htmx and "changed_from" in request.GET
    if request.method == "POST":
        form = NewRunForm(request.user, request.POST, classroom=classroom)
        if form.is_valid():
            try:
                run = Run.objects.start(
                    request.user,
                    form.source,
                    form.config,
                    classroom=classroom,
                    max_active=form.policy.max_active_runs,
                )
            except ActiveRunLimit as refusal:
                form.add_error(None, str(refusal))
                status = LIMIT_STATUS
            else:
                url = reverse("runs:detail", args=[run.pk])
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        else:
            status = 400
        source = form.source
    else:
        ref = request.GET.get("pack", "").strip()
        initial, source = NewRunForm.initial_for(request.user, ref, classroom)
        form = NewRunForm(request.user, initial=initial, classroom=classroom)
        if source is not None and pack_change:
            form.initial, pack_changed = NewRunForm.after_pack_change(
                request.user, request.GET, initial, classroom
            )
            form.source = source
        elif source is not None:
            form.initial = form.prefill(initial, request.GET, form.policy)
            form.source = source
        unavailable = unavailable_notice(request.user, ref, source, classroom)
    context = {
        "form": form,
        "source": source,
        "unavailable": unavailable,
        "classroom": classroom,
        # outside a classroom, the student's classrooms (where a lesson's rules apply)
        "my_classrooms": [] if classroom else classrooms().of_member(request.user),
        "config_fields": [(form[name], SETTINGS[name]) for name in CONFIG_FIELDS],
        "pack_changed": pack_changed,
        "block_warning": form.block_warning(),
        "line_lengths": json.dumps(form.line_lengths()),
        "active_runs": Run.objects.filter(owner=request.user).active().count(),
        "max_active": form.policy.max_active_runs,
        **budget_context(),
    }
    template = "runs/new.html#form" if request.htmx else "runs/new.html"
    if pack_change:
        template = "runs/new.html#pack_fields"
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def fork_run(request, run_id):
    """GET ?step=&num_steps=&…: the fork form, prefilled with the run's settings and last
    step. POST: queue the child (owned by whoever forks; anyone who may see the run may)
    and go to its page, or 400 with inline errors (409 at the active-run limit)."""
    parent = viewable_run(request, run_id)
    status = 200
    if request.method == "POST":
        form = ForkForm(request.user, parent, request.POST)
        if form.is_valid():
            try:
                child = start_fork(request.user, form)
            except ActiveRunLimit as refusal:
                form.add_error(None, str(refusal))
                status = LIMIT_STATUS
            else:
                return redirect("runs:detail", run_id=child.pk)
        else:
            status = 400
    else:
        form = ForkForm(request.user, parent, initial=ForkForm.initial_for(parent, request.GET))
    context = {
        "run": parent,
        "form": form,
        "rerun_url": rerun_url(parent, request.user),
        "fields": [(form[name], SETTINGS[name]) for name in form.fields if name != "step"],
        "overlay": compare.curves([parent]),
    }
    return render(request, "runs/fork.html", context, status=status)


@login_required
@require_GET
def compare_runs(request):
    """?run=<id>&run=<id>… (2 to 6 runs the viewer may see; My runs' checkboxes, a run
    page's links). 400 for a bad pick, 404 for a run the viewer may not see."""
    try:
        runs = compare.runs_to_compare(request.user, request.GET.getlist("run"))
    except compare.CompareError as refusal:
        context = {"error": str(refusal), "back": panel_to_return_to(request)}
        return render(request, "runs/compare.html", context, status=refusal.status)
    context = compare.context(
        runs,
        step=query_number(request, "step"),
        layer=query_number(request, "layer"),
        head=query_number(request, "head"),
    )
    context["back"] = panel_to_return_to(request)
    return render(request, "runs/compare.html", context)


def query_number(request, name):
    try:
        return int(request.GET[name])
    except (KeyError, ValueError):
        return None


def panel_to_return_to(request):
    """The classroom whose panel the page links back to (?classroom=<id>, when the viewer
    teaches it), or None."""
    classroom_id = query_number(request, "classroom")
    if classroom_id is None:
        return None
    return next((room for room in classrooms().taught_by(request.user)
                 if room.pk == classroom_id), None)


@login_required
@require_GET
def glossary(request):
    """Every setting of a run in words (what it is, what changing it does, its limits) and
    the words the run pages use; the new-run form links each field here."""
    settings_words = [
        {"name": name, "words": SETTINGS[name], "limits": limit_text(name)}
        for name in CONFIG_FIELDS
    ]
    return render(request, "runs/glossary.html", {"settings": settings_words, "terms": TERMS})


def budget_context():
    """The run budget as the form states it (runs/new.html)."""
    max_samples = settings.LAB_MAX_SAMPLES_PER_RUN
    return {
        "max_samples": max_samples,
        # a sample is at most a block of characters, each at most 4 bytes in UTF-8
        "max_sample_kb": max_samples * LIMITS["block_size"][1] * 4 // 1024,
        "snapshot_mb": SNAPSHOT_BUDGET_BYTES / 1_000_000,
    }


def unavailable_notice(user, ref, source, classroom=None):
    """Why the form shows another text than the link's ?pack=`ref` asked for; "" when it
    shows that one (or the link named none)."""
    if not ref or (source and source.ref == ref):
        return ""
    if ref.startswith(UPLOAD_PREFIX):  # not the student's: say nothing of what it is
        return (
            "The upload in that link is not shared with you (or no longer is); pick another text."
        )
    try:
        pack = resolve_source(ref, user, include_disabled=True).pack
    except SourceError:
        return f"There is no pack “{ref}”; pick another text."
    if pack.enabled and classroom is not None:
        return f"The pack “{pack.title}” is not offered in {classroom.name}; pick another text."
    return f"The pack “{pack.title}” is not available right now; pick another text."


def sparkline_points(points, num_steps, width=SPARK_WIDTH, height=SPARK_HEIGHT):
    """SVG polyline points for [(step, loss)]: x is the step over the run's `num_steps`
    (a run stopped halfway draws half the width), low loss at the bottom."""
    points = [(step, loss) for step, loss in points if loss is not None]
    if len(points) < 2:
        return ""
    losses = [loss for _, loss in points]
    lo, hi = min(losses), max(losses)
    span = (hi - lo) or 1.0
    x_scale = width / max(num_steps - 1, 1)
    return " ".join(
        f"{(step - 1) * x_scale:.1f},{1 + (height - 2) * (hi - loss) / span:.1f}"
        for step, loss in points
    )


def smoothed_losses(run, points=SPARK_POINTS):
    """[(step, loss)] for a sparkline: step 1's loss (where training starts), then the mean
    loss of each following bucket of `every` steps at the bucket's middle step, so about
    `points` points in all whatever the run's length."""
    every = max(1, -(-run.num_steps // points))
    # step 1 -> bucket 0 on its own; steps 2..every+1 -> bucket 1, and so on
    bucket = (F("step") + (every - 2)) / every
    return list(
        run.events.filter(kind=Kind.STEP)
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(mid_step=Avg("step"), loss=Avg(step_loss()))
        .order_by("bucket")
        .values_list("mid_step", "loss")
    )


@login_required
def run_list(request):
    """The student's own runs, newest first, each with a loss sparkline."""
    runs = Run.objects.filter(owner=request.user).select_related("pack", "upload")
    page = Paginator(runs, 25).get_page(request.GET.get("page"))
    for run in page:
        run.sparkline = sparkline_points(smoothed_losses(run), run.num_steps)
        run.finding_list = findings_for(run)
    return render(
        request,
        "runs/list.html",
        {"page": page, "runs": page.object_list, "spark": (SPARK_WIDTH, SPARK_HEIGHT)},
    )


@login_required
@require_POST
def cancel_run(request, run_id):
    """Cancel (owner or their classroom's instructor): a queued run ends at once, a running
    one within one flush of its trainer. htmx gets 204 (the socket shows the change)."""
    run = viewable_run(request, run_id)
    if not can_cancel(request.user, run):
        if run.showcase:
            return HttpResponseForbidden(
                "This is a showcase run: anyone may explore it, nobody may cancel it."
            )
        return HttpResponseForbidden("Only the run's owner or their instructor may cancel it.")
    if run.is_active:
        run.request_cancel(by=request.user)
        messages.info(request, f"Run {run.pk}: cancel requested.")
    if request.htmx:
        return HttpResponse(status=204)
    return redirect("runs:detail", run_id=run.pk)


def validation_points(run):
    """[{"step", "val_loss", "probe_loss", "dead_relu_share"}] of every evaluation point."""
    series = run.eval_series()
    names = ("val_loss", "probe_loss", "dead_relu_share")
    return [
        {"step": step, **{name: series[name][i] for name in names}}
        for i, step in enumerate(series["step"])
    ]


@login_required_unless_showcase
def export_json(request, run_id):
    """Config, every step's scalars, the validation points, the probe line, the findings
    and the samples, as a JSON download."""
    run = viewable_run(request, run_id)
    steps = [
        {"step": step, **{k: v for k, v in data.items() if k != "step"}}
        for step, data in run.events.filter(kind=Kind.STEP)
        .order_by("seq")
        .values_list("step", "data")
    ]
    body = {
        "run": {
            "id": run.pk,
            "owner": run.owner.username,
            "source": run.source_ref,
            "source_title": run.source_title,
            "status": run.status,
            "created_at": run.created_at.isoformat(),
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "num_steps": run.num_steps,
            "current_step": run.current_step,
            "final_loss": run.final_loss,
            "vocab": run.vocab,
            "vocab_size": run.vocab_size,
            "baseline_loss": run.baseline_loss,
            "error": run.error,
        },
        "config": run.config,
        "steps": steps,
        "validation": validation_points(run),
        "probe": run.started_data().get("probe"),
        "findings": [finding.to_dict() for finding in findings_for(run)],
        "samples": list(reversed(run.samples())),
    }
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False, indent=1), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="run-{run.pk}.json"'
    return response
