"""Every lessons URL for who may and who may not: the student in the classroom, a student
of another classroom, the instructor, another instructor, an outsider, anonymous."""

import csv
import io

import pytest
from django.urls import Resolver404, resolve, reverse

from classrooms.models import Classroom
from lessons.models import Assignment, Lesson, Reflection, Step, StepRun
from runs.models import Run
from tests.lessons.test_checking import stored_run


@pytest.fixture
def assignment(starters, assign):
    return assign(starters["loss-curve"])


@pytest.fixture
def people(student, other_student, instructor, other_instructor, outsider):
    return {"student": student, "other_student": other_student, "instructor": instructor,
            "other_instructor": other_instructor, "outsider": outsider, "anonymous": None}


def get_as(client, user, url, method="get", **data):
    if user is not None:
        client.force_login(user)
    return getattr(client, method)(url, data)


def expect(people, client, url, allowed, method="get", ok=(200, 302), **data):
    for name, user in people.items():
        client.logout()
        response = get_as(client, user, url, method, **data)
        if name == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], name
        elif name in allowed:
            assert response.status_code in ok, (name, response.status_code)
        else:
            assert response.status_code in (403, 404), (name, response.status_code)


def test_the_path_is_for_the_class_and_its_instructor(client, people, assignment):
    url = reverse("lessons:path", args=[assignment.pk])
    expect(people, client, url, {"student", "instructor"}, ok=(200,))


def test_the_csv_is_the_instructors(client, people, classroom, assignment):
    expect(people, client, reverse("lessons:csv", args=[classroom.pk]), {"instructor"},
           ok=(200,))


def test_the_lesson_fragments_are_parts_of_pages_not_urls_of_their_own(classroom):
    """The panel's lesson section, a classroom's lessons and a run's challenge banner are
    rendered inside their pages and pushed by sockets: no page of their own to guard."""
    room = f"/lessons/classrooms/{classroom.pk}/"
    for path in (room, f"{room}panel/", "/lessons/runs/1/"):
        with pytest.raises(Resolver404):
            resolve(path)


def test_copy_is_the_instructors_and_copies_settings_packs_and_lessons_not_members(
    client, people, classroom, assignment, packs
):
    classroom.default_config = {"learning_rate": 0.01}
    classroom.locked_fields = ["learning_rate"]
    classroom.save()
    classroom.offered_packs.set([packs["regex"]])
    url = reverse("lessons:copy", args=[classroom.pk])
    for name in ("student", "other_student", "other_instructor", "outsider"):
        client.logout()
        assert get_as(client, people[name], url, "post").status_code in (403, 404), name
    client.force_login(people["instructor"])
    response = client.post(url, {"name": "Spring term"})
    copy = Classroom.objects.get(name="Spring term")
    assert response.status_code == 302 and response["Location"].endswith(f"/{copy.pk}/")
    assert copy.join_code != classroom.join_code and not copy.students.exists()
    assert copy.locked_fields == ["learning_rate"] and copy.default_config == {"learning_rate":
                                                                              0.01}
    assert list(copy.offered_packs.all()) == [packs["regex"]]
    assert list(Assignment.objects.filter(classroom=copy).values_list("lesson", flat=True)) == [
        assignment.lesson_id]


def test_reflections_are_written_by_members_and_shown_to_the_instructor(
    client, people, assignment, student, instructor
):
    step = assignment.lesson.steps.get(position=1)
    url = reverse("lessons:reflect", args=[assignment.pk, step.pk])
    for name in ("other_student", "other_instructor", "outsider", "instructor"):
        client.logout()
        assert get_as(client, people[name], url, "post", text="x").status_code in (403, 404)
    client.force_login(student)
    assert client.post(url, {"text": ""}).status_code == 400
    assert client.post(url, {"text": "x" * 2001}).status_code == 400
    assert client.post(url, {"text": "It started at <b>ln V</b>"}).status_code == 302
    assert Reflection.objects.get(student=student).text == "It started at <b>ln V</b>"
    client.force_login(instructor)
    panel = client.get(reverse("classrooms:detail", args=[assignment.classroom_id]))
    panel = panel.content.decode()
    assert "It started at &lt;b&gt;ln V&lt;/b&gt;" in panel and "<b>ln V" not in panel


def test_lessons_are_written_by_instructors_and_starters_cannot_be_changed(
    client, people, instructor, other_instructor, starters, packs
):
    expect(people, client, reverse("lessons:list"), {"instructor", "other_instructor"},
           ok=(200,))
    client.force_login(instructor)
    response = client.post(reverse("lessons:list"), {"title": "Mine", "summary": "s"})
    mine = Lesson.objects.get(title="Mine")
    assert response.status_code == 302 and mine.author == instructor
    edit = reverse("lessons:edit", args=[mine.pk])
    step = {"title": "Go", "instructions": "Train **it**", "opens": "new_run",
            "pack": packs["arithmetic"].pk, "config_learning_rate": "0.01",
            "locked_fields": ["learning_rate"], "challenge_kind": "train_loss",
            "challenge_target": "1.5", "challenge_by_step": "300", "reflection": "Why?"}
    assert client.post(edit, {**step, "challenge_target": "-2"}).status_code == 400
    assert client.post(edit, {**step, "locked_fields": ["seed"]}).status_code == 400
    assert client.post(edit, step).status_code == 302
    saved = mine.steps.get()
    assert saved.challenge == {"kind": "train_loss", "target": 1.5, "by_step": 300}
    assert saved.preset == {"learning_rate": 0.01} and saved.locked == ["learning_rate"]
    client.force_login(other_instructor)
    assert client.get(edit).status_code == 404
    assert client.post(edit, step).status_code == 404
    starter = starters["loss-curve"]
    assert client.get(reverse("lessons:edit", args=[starter.pk])).status_code == 200
    assert client.post(reverse("lessons:edit", args=[starter.pk]), step).status_code == 403
    delete = reverse("lessons:step_delete", args=[mine.pk, saved.pk])
    assert client.post(delete).status_code == 404
    client.force_login(instructor)
    assert client.post(delete).status_code == 302 and not Step.objects.filter(pk=saved.pk).exists()


def test_assigning_needs_the_lesson_and_the_classroom(
    client, instructor, other_instructor, classroom, starters, student
):
    lesson = starters["look-back"]
    url = reverse("lessons:assign")
    client.force_login(student)
    assert client.post(url, {"lesson": lesson.pk, "classroom": classroom.pk}).status_code == 403
    client.force_login(other_instructor)
    assert client.post(url, {"lesson": lesson.pk, "classroom": classroom.pk}).status_code == 404
    client.force_login(instructor)
    assert client.post(url, {"lesson": "x", "classroom": classroom.pk}).status_code == 400
    assert client.post(url, {"lesson": lesson.pk, "classroom": classroom.pk}).status_code == 302
    assert Assignment.objects.filter(lesson=lesson, classroom=classroom).exists()


def test_the_prepared_form_locks_its_fields_on_the_server(client, student, classroom,
                                                          assignment, other_student):
    step = assignment.lesson.steps.get(position=1)  # locks the model and learning rate
    new = reverse("runs:new")
    client.force_login(student)
    page = client.get(new, {"classroom": classroom.pk, "lesson_step": step.pk})
    assert page.status_code == 200 and "lesson-step-note" in page.content.decode()
    form = page.context["form"]
    data = {name: form[name].value() for name in form.fields}
    data.update(classroom=classroom.pk, lesson_step=step.pk, learning_rate="0.9",
                n_embd="64", probe_text="")
    response = client.post(new, data)
    assert response.status_code == 302
    run = Run.objects.get(owner=student)
    assert run.config["learning_rate"] == 0.01 and run.config["n_embd"] == 16
    assert StepRun.objects.get(run=run).step == step
    client.force_login(other_student)  # not in the classroom
    assert client.get(new, {"classroom": classroom.pk, "lesson_step": step.pk}).status_code == 403
    client.force_login(student)
    assert client.get(new, {"classroom": classroom.pk, "lesson_step": "999"}).status_code == 404
    assert client.get(new, {"lesson_step": step.pk}).status_code == 404  # no classroom


def test_the_run_banner_is_on_the_run_page_of_whoever_may_see_the_run(client, people,
                                                                      assignment, student):
    run = stored_run(student, [2.0] * 5)
    StepRun.link(assignment, assignment.lesson.steps.get(position=2), student, run)
    url = reverse("runs:detail", args=[run.pk])
    expect(people, client, url, {"student", "instructor"}, ok=(200,))
    client.force_login(student)
    assert "Checking while it trains" in client.get(url).content.decode()


def test_the_csv_has_a_row_per_student_step_and_run(client, instructor, student, assignment):
    run = stored_run(student, [1.0] * 30)
    step = assignment.lesson.steps.get(position=2)
    step_run = StepRun.link(assignment, step, student, run)
    from lessons.checking import check

    check(step_run, run)
    Reflection.objects.create(assignment=assignment, step=step, student=student,
                              text="=HYPERLINK(1)")
    client.force_login(instructor)
    response = client.get(reverse("lessons:csv", args=[assignment.classroom_id]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "student"
    mine = [r for r in rows if r[0] == "student" and r[3] == str(run.pk)]
    assert len(mine) == 1
    row = dict(zip(rows[0], mine[0], strict=True))
    assert row["met at step"] == "20" and row["smoothed loss"] == "1.0000"
    assert row["reflection"] == "'=HYPERLINK(1)"  # never a formula in a spreadsheet
    assert len([r for r in rows if r[0] == "classmate"]) == 2  # two steps, no runs


def test_a_step_that_opens_a_given_run_needs_a_showcase_run(client, instructor, student,
                                                            assign, packs):
    from tests.lessons.test_checking import stored_run

    lesson = Lesson.objects.create(title="Look", author=instructor)
    private = stored_run(student, [2.0] * 5)
    showcase = stored_run(instructor, [2.0] * 5)
    Run.objects.filter(pk=showcase.pk).update(showcase=True)
    client.force_login(instructor)
    edit = reverse("lessons:edit", args=[lesson.pk])
    step = {"title": "Play", "instructions": "Guess", "opens": "playground",
            "reflection": "Who guessed better?"}
    assert client.post(edit, {**step, "run_id": "999"}).status_code == 400
    # without a question it could never be completed: refused, in words
    response = client.post(edit, {**step, "run_id": showcase.pk, "reflection": " "})
    assert response.status_code == 400 and "Ask a question" in response.content.decode()
    response = client.post(edit, {**step, "run_id": private.pk})
    assert response.status_code == 400 and "showcase run" in response.content.decode()
    assert client.post(edit, {**step, "run_id": showcase.pk, "challenge_kind": "train_loss",
                              "challenge_target": "1"}).status_code == 400  # nothing to check
    assert client.post(edit, {**step, "run_id": showcase.pk}).status_code == 302
    assignment = assign(lesson)
    client.force_login(student)
    page = client.get(reverse("lessons:path", args=[assignment.pk])).content.decode()
    assert reverse("runs:playground", args=[showcase.pk]) in page


def test_instructions_are_rendered_safely(client, instructor, student, assign):
    lesson = Lesson.objects.create(title="Safe", author=instructor)
    Step.objects.create(lesson=lesson, position=1, title="x", opens="nothing",
                        instructions='**ok** <script>alert(1)</script> [a](javascript:alert(1))'
                                     ' [b](https://example.org)', reflection="Why?")
    assignment = assign(lesson)
    client.force_login(student)
    page = client.get(reverse("lessons:path", args=[assignment.pk])).content.decode()
    assert "<strong>ok</strong>" in page and "&lt;script&gt;" in page
    assert "<script>alert" not in page and 'href="javascript' not in page
    assert 'href="https://example.org"' in page


def test_a_refused_answer_says_why_under_the_form(client, student, assignment):
    step = assignment.lesson.steps.get(position=1)
    client.force_login(student)
    url = reverse("lessons:reflect", args=[assignment.pk, step.pk])
    response = client.post(url, {"text": "x" * 2001}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert "2000" in response.content.decode() or "2,000" in response.content.decode()


@pytest.mark.parametrize("who", ["other_student", "other_instructor", "outsider", "anonymous"])
def test_strangers_cannot_assign_delete_or_prepare(client, request, who, classroom,
                                                   assignment, instructor):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    if user is not None:
        client.force_login(user)
    lesson = Lesson.objects.create(title="Mine", author=instructor)
    step = Step.objects.create(lesson=lesson, position=1, title="x", instructions="x")
    posts = [
        (reverse("lessons:assign"), {"lesson": lesson.pk, "classroom": classroom.pk}),
        (reverse("lessons:step_delete", args=[lesson.pk, step.pk]), {}),
        (reverse("lessons:copy", args=[classroom.pk]), {}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code in (302, 403, 404), url
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"], url
    prepared = client.get(reverse("runs:new"), {"classroom": classroom.pk,
                                                "lesson_step": assignment.lesson.steps.first().pk})
    assert prepared.status_code in (302, 403, 404)
    assert Step.objects.filter(pk=step.pk).exists()
    assert not Assignment.objects.filter(lesson=lesson).exists()
    assert not Classroom.objects.filter(name__endswith="(copy)").exists()


def test_only_a_step_that_starts_a_run_prepares_the_form(client, student, classroom, assign,
                                                         instructor):
    lesson = Lesson.objects.create(title="Read", author=instructor)
    step = Step.objects.create(lesson=lesson, position=1, title="x", instructions="x",
                               opens="nothing")
    assign(lesson)
    client.force_login(student)
    response = client.get(reverse("runs:new"), {"classroom": classroom.pk,
                                                "lesson_step": step.pk})
    assert response.status_code == 404
