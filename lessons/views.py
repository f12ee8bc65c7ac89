"""Lessons' pages: the instructor's lessons and steps, assigning, the panel's lesson section
(matrix, leaderboards, CSV), copying a classroom; the student's guided path and
reflections; the challenge banner of a run's page."""

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST

from classrooms.access import classroom_for, require_instructor_role
from classrooms.live import notify
from classrooms.models import Classroom
from lessons import progress
from lessons.copying import copy_classroom
from lessons.forms import LessonForm, ReflectionForm, StepForm
from lessons.markdown import render as markdown
from lessons.models import Assignment, Lesson, Reflection, Step, StepRun


def lesson_for(user, lesson_id, *, edit=False):
    """A lesson the instructor may assign (or, with `edit`, change); 404 otherwise."""
    require_instructor_role(user)
    lesson = Lesson.objects.usable_by(user).filter(pk=lesson_id).first()
    if lesson is None:
        raise Http404("No such lesson.")
    if edit and not lesson.may_edit(user):
        raise PermissionDenied("A starter lesson ships with the lab and cannot be changed: "
                               "copy it (“Copy to edit” on its page) and change the copy.")
    return lesson


def assignment_for(user, assignment_id, *, teach=False):
    assignment = Assignment.objects.select_related("lesson", "classroom").filter(
        pk=assignment_id).first()
    if assignment is None:
        raise Http404("No such lesson.")
    classroom_for(user, assignment.classroom_id, teach=teach)  # 404 / 403 as classrooms
    return assignment


@login_required
@require_http_methods(["GET", "POST"])
def lesson_list(request):
    require_instructor_role(request.user)
    form = LessonForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            lesson = form.save(commit=False)
            lesson.author = request.user
            lesson.save()
            messages.success(request, f"{lesson.title} is ready: add its steps.")
            return redirect("lessons:edit", lesson.pk)
        status = 400
    else:
        status = 200
    lessons = Lesson.objects.usable_by(request.user).prefetch_related("steps")
    return render(request, "lessons/list.html", {"lessons": lessons, "form": form},
                  status=status)


@login_required
@require_http_methods(["GET", "POST"])
def lesson_edit(request, lesson_id):
    """The lesson's page: its steps; for its author, the forms to add a step and to change
    the lesson's title and summary (POST part=lesson)."""
    lesson = lesson_for(request.user, lesson_id)
    changing_lesson = request.POST.get("part") == "lesson"
    form = StepForm(None if changing_lesson else request.POST or None, user=request.user)
    about = LessonForm(request.POST if changing_lesson else None, instance=lesson,
                       prefix="lesson")
    status = 200
    if request.method == "POST":
        lesson = lesson_for(request.user, lesson_id, edit=True)
        if changing_lesson and about.is_valid():
            about.save()
            messages.success(request, "Title and summary saved.")
            return redirect("lessons:edit", lesson.pk)
        if not changing_lesson and form.is_valid():
            step = form.save_to(lesson)
            messages.success(request, f"Step {step.position} added.")
            return redirect("lessons:edit", lesson.pk)
        status = 400
        lesson.refresh_from_db()  # the page shows the lesson as stored
    counted = lesson.steps.annotate(runs_started=Count("step_runs")).order_by("position")
    steps = [(step, markdown(step.instructions)) for step in counted]
    classrooms = Classroom.objects.taught_by(request.user)
    return render(request, "lessons/edit.html", {
        "lesson": lesson, "steps": steps, "form": form, "about": about,
        "classrooms": classrooms, "may_edit": lesson.may_edit(request.user),
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def step_edit(request, lesson_id, step_id):
    """Change a step in place (its challenge only while no student has a run for it)."""
    lesson = lesson_for(request.user, lesson_id, edit=True)
    step = get_object_or_404(Step, lesson=lesson, pk=step_id)
    form = StepForm(request.POST or None, instance=step, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            form.save_to(lesson)
            messages.success(request, f"Step {step.position} saved.")
            return redirect(reverse("lessons:edit", args=[lesson.pk]) + f"#step-{step.position}")
        status = 400
    return render(request, "lessons/step_edit.html", {
        "lesson": lesson, "step": step, "form": form,
        "runs_started": step.step_runs.count(),
    }, status=status)


@login_required
@require_POST
def step_move(request, lesson_id, step_id):
    """POST direction=up|down: the step swaps places with its neighbour."""
    lesson = lesson_for(request.user, lesson_id, edit=True)
    step = get_object_or_404(Step, lesson=lesson, pk=step_id)
    was = step.position
    try:
        step.move(request.POST.get("direction", ""))
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    messages.success(request, f"“{step.title}” moved from step {was} to step {step.position}.")
    return redirect(reverse("lessons:edit", args=[lesson.pk]) + f"#step-{step.position}")


@login_required
@require_POST
def step_delete(request, lesson_id, step_id):
    lesson = lesson_for(request.user, lesson_id, edit=True)
    step = get_object_or_404(Step, lesson=lesson, pk=step_id)
    runs = step.step_runs.count()
    step.delete()
    lesson.renumber()
    results = f" with the results of {runs} run{'s' if runs != 1 else ''}" if runs else ""
    messages.success(request, f"Step “{step.title}” removed{results}; the steps after it "
                     "moved up.")
    return redirect("lessons:edit", lesson.pk)


@login_required
@require_POST
def lesson_copy(request, lesson_id):
    """A copy of a lesson (a starter one, or your own) that you write: change it freely."""
    lesson = lesson_for(request.user, lesson_id)
    copy = lesson.copy_for(request.user)
    messages.success(request, f"{copy.title} is yours to change; {lesson.title} is as it was.")
    return redirect("lessons:edit", copy.pk)


@login_required
@require_POST
def assign(request):
    """POST lesson=<id>, classroom=<id>: the classroom's students get the lesson."""
    require_instructor_role(request.user)
    try:
        lesson_id = int(request.POST.get("lesson", ""))
        classroom_id = int(request.POST.get("classroom", ""))
    except ValueError:
        return HttpResponse("Choose a lesson and a classroom.", status=400,
                            content_type="text/plain; charset=utf-8")
    lesson = lesson_for(request.user, lesson_id)
    classroom = classroom_for(request.user, classroom_id, teach=True)
    if not lesson.steps.exists():
        messages.error(request, "Add a step before assigning the lesson.")
        return redirect("lessons:edit", lesson.pk)
    _, created = Assignment.objects.get_or_create(lesson=lesson, classroom=classroom)
    notify(classroom.pk, "lessons")
    word = "assigned to" if created else "was already assigned to"
    messages.success(request, f"{lesson.title} {word} {classroom.name}.")
    return redirect("classrooms:detail", classroom.pk)


@login_required
def path(request, assignment_id):
    """The student's guided path (the instructor sees it as a student would)."""
    assignment = assignment_for(request.user, assignment_id)
    steps = list(assignment.lesson.steps.select_related("pack", "run"))
    cells = progress.student_cells(assignment, request.user, steps)
    shown = [
        {"step": step, "html": markdown(step.instructions), "cell": cells[step.pk],
         "challenge": step.the_challenge,
         "form": ReflectionForm(initial={"text": cells[step.pk].reflection})}
        for step in steps
    ]
    return render(request, "lessons/path.html", {
        "assignment": assignment, "classroom": assignment.classroom, "steps": shown,
        "is_instructor": assignment.classroom.is_taught_by(request.user),
    })


@login_required
@require_POST
def reflect(request, assignment_id, step_id):
    assignment = assignment_for(request.user, assignment_id)
    if not assignment.classroom.has_member(request.user):
        raise PermissionDenied("Only the classroom's students write reflections.")
    step = get_object_or_404(Step, lesson=assignment.lesson, pk=step_id)
    if not step.reflection:
        return HttpResponse("This step asks no question.", status=400,
                            content_type="text/plain; charset=utf-8")
    form = ReflectionForm(request.POST)
    if not form.is_valid():
        error = " ".join(form.errors["text"])
        if request.htmx:  # shown under the answer (path.html lets htmx swap a 400)
            return HttpResponse(f'<p class="error" role="alert">{escape(error)}</p>', status=400)
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    Reflection.objects.update_or_create(
        assignment=assignment, step=step, student=request.user,
        defaults={"text": form.cleaned_data["text"]},
    )
    notify(assignment.classroom_id, "lessons")
    if request.htmx:
        return HttpResponse('<p class="saved" role="status">Saved: your instructor can read '
                            'it.</p>')
    messages.success(request, "Your answer is saved.")
    return redirect(reverse("lessons:path", args=[assignment.pk]) + f"#step-{step.position}")


def panel_context(classroom, user=None):
    """The panel's lesson section: its first render (lessons_tags.lessons_panel, with the
    instructor's lessons to assign) and every push of its socket (the matrices only)."""
    assignments = Assignment.objects.filter(classroom=classroom).select_related("lesson")
    return {
        "classroom": classroom,
        "matrices": [progress.matrix(a) for a in assignments],
        "assignable": Lesson.objects.usable_by(user) if user else Lesson.objects.none(),
    }



def classroom_lessons_context(classroom, user):
    """The lessons assigned to a classroom with `user`'s progress dots."""
    assignments = Assignment.objects.filter(classroom=classroom).select_related("lesson")
    rows = [(a, list(progress.student_cells(a, user).values())) for a in assignments]
    return {"classroom": classroom, "rows": rows}



@login_required
def results_csv(request, classroom_id):
    classroom = classroom_for(request.user, classroom_id, teach=True)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = slugify(classroom.name) or "classroom"
    response["Content-Disposition"] = f'attachment; filename="{name}-lessons.csv"'
    writer = csv.writer(response)
    writer.writerow(progress.CSV_HEADER)
    for row in progress.csv_rows(classroom):
        writer.writerow([progress.safe_cell(value) for value in row])
    return response


@login_required
@require_POST
def copy(request, classroom_id):
    classroom = classroom_for(request.user, classroom_id, teach=True)
    name = (request.POST.get("name") or "").strip()[:100]
    new = copy_classroom(classroom, name or None)
    messages.success(request, f"{new.name} is ready, with the same settings, packs and "
                     "lessons and no students yet: share its new join code.")
    return redirect("classrooms:detail", new.pk)


def banner_context(run):
    step_run = StepRun.objects.select_related("step", "assignment__lesson").filter(
        run=run).first()
    challenge = step_run.step.the_challenge if step_run else None
    value_words = challenge.value_words(step_run.value) if challenge else ""
    return {"run": run, "step_run": step_run, "challenge": challenge, "value_words": value_words}
