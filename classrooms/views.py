from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

import notices
from classrooms import funnel, live, panel
from classrooms import spotlight as spotlight_view
from classrooms.access import classroom_for, require_instructor_role
from classrooms.forms import ClassroomForm, ClassroomSettingsForm, JoinForm
from classrooms.models import Classroom, Membership
from common.roles import is_instructor
from runs.permissions import can_cancel
from runs.policy import CONFIG_LABELS, run_policy_for


@login_required
def classroom_list(request):
    user = request.user
    memberships = (
        Membership.objects.filter(student=user)
        .select_related("classroom", "classroom__instructor")
        .order_by("-joined_at")
    )
    taught = Classroom.objects.filter(instructor=user) if is_instructor(user) else []
    return render(
        request,
        "classrooms/list.html",
        {"memberships": memberships, "taught": taught, "join_form": JoinForm()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def classroom_new(request):
    require_instructor_role(request.user)
    form = ClassroomForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            classroom = form.save(commit=False)
            classroom.instructor = request.user
            classroom.save()
            messages.success(request, f"{classroom.name} is ready: share the code below.")
            return redirect("classrooms:detail", classroom.pk)
        return render(request, "classrooms/new.html", {"form": form}, status=400)
    return render(request, "classrooms/new.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def classroom_edit(request, classroom_id):
    classroom = classroom_for(request.user, classroom_id, teach=True)
    data = request.POST if request.method == "POST" else None
    form = ClassroomForm(data, instance=classroom, prefix="about")
    rules = ClassroomSettingsForm(data, classroom=classroom, prefix="rules")
    if request.method == "POST":
        if form.is_valid() and rules.is_valid():
            form.save()
            rules.save()
            messages.success(request, "Classroom settings saved.")
            return redirect("classrooms:detail", classroom.pk)
        status = 400
    else:
        status = 200
    context = {"classroom": classroom, "form": form, "rules": rules}
    return render(request, "classrooms/edit.html", context, status=status)


def join_attempts_limited(request):
    """Count this join attempt per account and per address (django-ratelimit, in the
    cache); True when either is over its rate."""
    limited = False
    for key, rate in (
        ("user", settings.LAB_JOIN_RATE_PER_USER),
        ("ip", settings.LAB_JOIN_RATE_PER_ADDRESS),
    ):
        limited |= is_ratelimited(request, group="join", key=key, rate=rate, increment=True)
    return limited


@login_required
@require_http_methods(["GET", "POST"])
def join(request):
    code = request.GET.get("code", "")
    form = JoinForm(request.POST or None, initial={"code": code})
    if request.method == "GET":
        # a join link names its classroom: say which, and what its instructor will see
        joining = JoinForm({"code": code}) if code else None
        joining = joining.classroom if joining and joining.is_valid() else None
        return render(request, "classrooms/join.html", {"form": form, "joining": joining})
    if join_attempts_limited(request):
        form = JoinForm(initial={"code": request.POST.get("code", "")})
        form.limited = True
        return render(request, "classrooms/join.html", {"form": form}, status=429)
    if not form.is_valid():
        return render(request, "classrooms/join.html", {"form": form}, status=400)
    classroom = form.classroom
    if classroom.is_taught_by(request.user):
        form.add_error("code", f"You teach {classroom.name}; instructors do not join.")
        return render(request, "classrooms/join.html", {"form": form}, status=400)
    if classroom.has_member(request.user):
        messages.info(request, f"You are already in {classroom.name}.")
    else:
        classroom.join(request.user)
        messages.success(request, f"Welcome to {classroom.name}.")
    return redirect("classrooms:detail", classroom.pk)


@login_required
def detail(request, classroom_id):
    """The instructor's panel, or the classroom's page for a student in it."""
    classroom = classroom_for(request.user, classroom_id)
    if classroom.is_taught_by(request.user):
        return render(request, "classrooms/panel.html", panel.context(classroom))
    policy = run_policy_for(request.user, classroom)
    shared = classroom.shared_runs().select_related("owner", "pack")[:50]
    return render(
        request,
        "classrooms/student.html",
        {
            "classroom": classroom,
            "policy": policy,
            "locked": [(CONFIG_LABELS[n], policy.default_config[n]) for n in policy.locked_fields],
            "shared_runs": shared,
        },
    )


def _join_code_changed(request, classroom, message):
    if request.htmx:
        return render(request, "classrooms/panel.html#join-code", {"classroom": classroom})
    messages.success(request, message)
    return redirect("classrooms:detail", classroom.pk)


@login_required
@require_POST
def rotate_code(request, classroom_id):
    classroom = classroom_for(request.user, classroom_id, teach=True)
    classroom.rotate_code()
    return _join_code_changed(request, classroom, "New join code; the old one no longer works.")


@login_required
@require_POST
def set_join_open(request, classroom_id):
    classroom = classroom_for(request.user, classroom_id, teach=True)
    is_open = request.POST.get("open") == "1"
    classroom.set_join_open(is_open)
    message = "Joining is open." if is_open else "Joining is closed: the code no longer works."
    return _join_code_changed(request, classroom, message)


@login_required
@require_POST
def remove_student(request, classroom_id, student_id):
    classroom = classroom_for(request.user, classroom_id, teach=True)
    membership = get_object_or_404(Membership, classroom=classroom, student_id=student_id)
    student = membership.student
    classroom.remove(student, by_instructor=True)
    if request.htmx:
        return render(request, "classrooms/panel.html#roster", panel.context(classroom))
    messages.success(request, f"{student.username} was removed from {classroom.name}.")
    return redirect("classrooms:detail", classroom.pk)


@login_required
@require_POST
def leave(request, classroom_id):
    classroom = classroom_for(request.user, classroom_id)
    if classroom.is_taught_by(request.user):
        messages.error(request, "You teach this classroom; instructors cannot leave it.")
        return redirect("classrooms:detail", classroom.pk)
    classroom.remove(request.user)
    messages.success(request, f"You left {classroom.name}.")
    return redirect("classrooms:list")


@login_required
def funnel_counts(request, classroom_id):
    classroom = classroom_for(request.user, classroom_id, teach=True)
    return render(
        request,
        "classrooms/panel.html#funnel",
        {"classroom": classroom, "funnel": funnel.counts(classroom)},
    )


@login_required
def roster(request, classroom_id):
    classroom = classroom_for(request.user, classroom_id, teach=True)
    return render(request, "classrooms/panel.html#roster", panel.context(classroom))


@login_required
@require_POST
def cancel_run(request, classroom_id, run_id):
    """The instructor cancels any run of a student in their classroom."""
    classroom = classroom_for(request.user, classroom_id, teach=True)
    run = get_object_or_404(classroom.runs(), pk=run_id)
    if not can_cancel(request.user, run):
        raise PermissionDenied("You cannot cancel this run.")
    if run.is_active:
        run.request_cancel(by=request.user)
    if request.htmx:
        return render(request, "classrooms/panel.html#roster", panel.context(classroom))
    messages.success(request, f"Run {run.pk} is canceled.")
    return redirect("classrooms:detail", classroom.pk)


@login_required
@require_POST
def choose_spotlight(request, classroom_id):
    """Put a run of the classroom on the spotlight (every open spotlight page follows).
    A private run (not shared with the class) needs `private_ok` (the panel asks the
    instructor first), and its owner is told."""
    classroom = classroom_for(request.user, classroom_id, teach=True)
    run = None
    if request.POST.get("run"):
        try:
            run_id = int(request.POST["run"])
        except ValueError:
            return HttpResponseBadRequest("run must be a run id")
        run = get_object_or_404(classroom.runs().select_related("owner"), pk=run_id)
        if run.classroom_id != classroom.pk:
            if request.POST.get("private_ok") != "1":
                return HttpResponse(
                    f"Run {run.pk} is private: {run.owner.username} has not shared it with "
                    "the class. Confirm to put it on the projector; they will be told.",
                    status=409,
                    content_type="text/plain; charset=utf-8",
                )
            notices.tell(
                run.owner,
                f"Your instructor put your private run {run.pk} on the projector in "
                f"{classroom.name}: the class can see it there.",
                reverse("runs:detail", args=[run.pk]),
            )
    classroom.spotlight(run)
    live.notify(classroom.pk, "spotlight")
    if request.htmx:
        return render(request, "classrooms/panel.html#roster", panel.context(classroom))
    return redirect("classrooms:detail", classroom.pk)


@login_required
def student_runs(request, classroom_id, student_id):
    """One student, for the instructor: every run of theirs with its figures and flags."""
    classroom = classroom_for(request.user, classroom_id, teach=True)
    membership = get_object_or_404(
        Membership.objects.select_related("student"), classroom=classroom, student_id=student_id
    )
    return render(
        request,
        "classrooms/student_runs.html",
        panel.student_context(classroom, membership.student),
    )


@login_required
def spotlight(request, classroom_id):
    """The projector page: one run, large, following the instructor's choice."""
    classroom = classroom_for(request.user, classroom_id)
    context = spotlight_view.context(request.user, classroom)
    return render(request, "classrooms/spotlight.html", context)


@login_required
def compare(request):
    """The old address of the comparison: `?a=<id>&b=<id>` or `?run=<id>&run=<id>` goes to
    runs' compare page (any 2 to 6 runs the viewer may see), with the panel to return to."""
    ids = request.GET.getlist("run") or [
        request.GET[name] for name in ("a", "b") if request.GET.get(name)
    ]
    query = [("run", value) for value in ids]
    if classroom_id := panel_to_return_to(request):
        query.append(("classroom", classroom_id))
    return redirect(f"{reverse('runs:compare')}?{urlencode(query)}")


def panel_to_return_to(request):
    """`?classroom=<id>` when the viewer teaches it (the page links back to its panel)."""
    classroom_id = query_int(request, "classroom")
    if classroom_id and Classroom.objects.taught_by(request.user).filter(pk=classroom_id).exists():
        return classroom_id
    return None


def query_int(request, name):
    try:
        return int(request.GET[name])
    except (KeyError, ValueError):
        return None
