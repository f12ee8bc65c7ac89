"""Changing a lesson after it is written: a step edited in place, steps moved up and down,
removed (the rest renumbered), a lesson copied to edit. Only the lesson's author and site
admins change it; starter lessons stay as shipped. A step whose runs were already checked
keeps its challenge, so no recorded "met at step k" silently changes meaning."""

import pytest
from django.urls import reverse

from lessons.models import Lesson, Step, StepRun
from tests.lessons.test_checking import stored_run


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser("site_admin", password="x")


@pytest.fixture
def lesson(instructor, packs):
    lesson = Lesson.objects.create(title="Sums", author=instructor)
    for n, title in enumerate(["Read", "Train", "Think"], start=1):
        Step.objects.create(
            lesson=lesson, position=n, title=title, instructions=f"Step {title}",
            opens="new_run" if title == "Train" else "nothing",
            pack=packs["arithmetic"] if title == "Train" else None,
            preset={"learning_rate": 0.01} if title == "Train" else {},
            locked=["learning_rate"] if title == "Train" else [],
            challenge={"kind": "train_loss", "target": 1.5, "by_step": 300}
            if title == "Train" else None,
            reflection="Why?",
        )
    return lesson


def titles(lesson):
    return list(lesson.steps.order_by("position").values_list("title", flat=True))


def posted(step, **changes):
    """What the step's edit form posts when nothing is changed, plus `changes`."""
    data = {"title": step.title, "instructions": step.instructions, "opens": step.opens,
            "pack": step.pack_id or "", "reflection": step.reflection,
            "run_id": step.run_id or "", "locked_fields": list(step.locked)}
    data.update({f"config_{k}": v for k, v in step.preset.items()})
    data.update({f"challenge_{k}": v for k, v in (step.challenge or {}).items()})
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_edit_form_shows_the_step_as_stored(client, instructor, lesson):
    step = lesson.steps.get(title="Train")
    client.force_login(instructor)
    response = client.get(reverse("lessons:step_edit", args=[lesson.pk, step.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["title"].value() == "Train"
    assert form["config_learning_rate"].value() == 0.01
    assert form["locked_fields"].value() == ["learning_rate"]
    assert form["challenge_kind"].value() == "train_loss"
    assert form["challenge_target"].value() == 1.5 and form["challenge_by_step"].value() == 300
    page = response.content.decode()
    assert "Save the step" in page and "Cancel: keep the step as it was" in page


def test_every_part_of_a_step_changes_in_place(client, instructor, lesson, packs):
    step = lesson.steps.get(title="Train")
    client.force_login(instructor)
    url = reverse("lessons:step_edit", args=[lesson.pk, step.pk])
    response = client.post(url, posted(
        step, title="Train longer", instructions="Now **600** steps", pack=packs["regex"].pk,
        config_learning_rate="0.02", config_num_steps="600",
        locked_fields=["learning_rate", "num_steps"], challenge_kind="val_loss",
        challenge_target="2.0", challenge_by_step="", reflection="What changed?"))
    assert response.status_code == 302 and response["Location"].endswith("#step-2")
    step.refresh_from_db()
    assert (step.title, step.instructions, step.pack, step.reflection) == (
        "Train longer", "Now **600** steps", packs["regex"], "What changed?")
    assert step.preset == {"learning_rate": 0.02, "num_steps": 600}
    assert step.locked == ["learning_rate", "num_steps"]
    assert step.challenge == {"kind": "val_loss", "target": 2.0}
    assert step.position == 2 and titles(lesson) == ["Read", "Train longer", "Think"]
    assert client.post(url, posted(step, challenge_kind="")).status_code == 302
    step.refresh_from_db()
    assert step.challenge is None


def test_bad_input_is_a_400_with_the_reason_and_changes_nothing(client, instructor, lesson):
    step = lesson.steps.get(title="Train")
    client.force_login(instructor)
    url = reverse("lessons:step_edit", args=[lesson.pk, step.pk])
    for changes, words in [
        ({"title": ""}, "This field is required."),
        ({"challenge_target": "-1"}, "zero or more"),
        ({"challenge_kind": "head_role", "challenge_target": "3"}, "between 0 and 1"),
        ({"pack": ""}, "Choose the pack"),
        ({"locked_fields": ["seed"]}, "seed"),
        ({"opens": "playground", "run_id": "999999"}, "Give the number of a run"),
    ]:
        response = client.post(url, posted(step, **changes))
        assert response.status_code == 400, changes
        assert words in response.content.decode(), changes
    assert Step.objects.get(pk=step.pk).title == "Train"


def test_a_step_with_results_keeps_its_challenge(client, instructor, student, lesson, assign):
    step = lesson.steps.get(title="Train")
    assignment = assign(lesson)
    run = stored_run(student, [1.0] * 30)
    step_run = StepRun.link(assignment, step, student, run)
    from lessons.checking import check

    check(step_run, run)
    step_run.refresh_from_db()
    assert step_run.met_at_step == 20
    client.force_login(instructor)
    url = reverse("lessons:step_edit", args=[lesson.pk, step.pk])
    page = client.get(url).content.decode()
    assert "Students have started 1 run for this step" in page
    for changes in ({"challenge_target": "0.5"}, {"challenge_kind": ""},
                    {"challenge_kind": "val_loss"}, {"challenge_by_step": "100"}):
        response = client.post(url, posted(step, **changes))
        assert response.status_code == 400, changes
        assert "the challenge cannot change now" in response.content.decode()
    step.refresh_from_db()
    assert step.challenge == {"kind": "train_loss", "target": 1.5, "by_step": 300}
    # the rest of the step still changes; the same challenge posted again is no change
    response = client.post(url, posted(step, title="Train it", challenge_target="1.50"))
    assert response.status_code == 302
    step.refresh_from_db()
    assert step.title == "Train it" and step.challenge["target"] == 1.5
    step_run.refresh_from_db()
    assert (step_run.verdict, step_run.met_at_step) == ("met", 20)


def test_a_step_without_a_challenge_gets_none_once_it_has_runs(client, instructor, student,
                                                                 lesson, assign):
    step = lesson.steps.get(title="Train")
    Step.objects.filter(pk=step.pk).update(challenge=None)
    step.refresh_from_db()
    StepRun.link(assign(lesson), step, student, stored_run(student, [1.0] * 5))
    client.force_login(instructor)
    url = reverse("lessons:step_edit", args=[lesson.pk, step.pk])
    response = client.post(url, posted(step, challenge_kind="train_loss",
                                       challenge_target="1"))
    assert response.status_code == 400
    assert Step.objects.get(pk=step.pk).challenge is None


@pytest.mark.services  # the swap and renumbering under PostgreSQL's unique check too
def test_steps_move_up_and_down(client, instructor, lesson):
    read, train, think = lesson.steps.order_by("position")
    client.force_login(instructor)

    def move(step, direction):
        return client.post(reverse("lessons:step_move", args=[lesson.pk, step.pk]),
                           {"direction": direction})

    response = move(think, "up")
    assert response.status_code == 302 and response["Location"].endswith("#step-2")
    assert titles(lesson) == ["Read", "Think", "Train"]
    assert move(read, "down").status_code == 302
    assert titles(lesson) == ["Think", "Read", "Train"]
    first = move(think, "up")
    assert first.status_code == 400 and "already the first step" in first.content.decode()
    last = move(train, "down")
    assert last.status_code == 400 and "already the last step" in last.content.decode()
    sideways = move(train, "left")
    assert sideways.status_code == 400 and "up or down" in sideways.content.decode()
    assert move(train, "").status_code == 400
    assert titles(lesson) == ["Think", "Read", "Train"]
    assert list(lesson.steps.order_by("position").values_list("position", flat=True)) == [
        1, 2, 3]
    assert client.get(reverse("lessons:step_move", args=[lesson.pk, train.pk])
                      ).status_code == 405


def test_the_lesson_page_offers_the_tools_in_words(client, instructor, lesson):
    read, train, think = lesson.steps.order_by("position")
    read.move("down")  # pk order is no longer the steps' order
    client.force_login(instructor)
    page = client.get(reverse("lessons:edit", args=[lesson.pk])).content.decode()
    assert page.count("Change this step") == 3
    assert page.count("↑ Move up") == 2 and page.count("↓ Move down") == 2  # not 1 up, 3 down
    assert "Move up<span class=\"visually-hidden\"> step 2 (it becomes step 1)" in page
    cards = [page.index(f"{n}. {title}</h2>") for n, title in enumerate(
        ["Train", "Read", "Think"], start=1)]
    assert cards == sorted(cards)
    assert "Copy to edit" not in page


@pytest.mark.services  # the swap and renumbering under PostgreSQL's unique check too
def test_removing_a_step_renumbers_the_rest(client, instructor, student, lesson, assign):
    train = lesson.steps.get(title="Train")
    StepRun.link(assign(lesson), train, student, stored_run(student, [1.0] * 5))
    client.force_login(instructor)
    page = client.get(reverse("lessons:edit", args=[lesson.pk])).content.decode()
    assert "Remove this step and the results of its 1 run" in page
    response = client.post(reverse("lessons:step_delete", args=[lesson.pk, train.pk]),
                           follow=True)
    assert "removed with the results of 1 run;" in response.content.decode()
    assert titles(lesson) == ["Read", "Think"]
    assert list(lesson.steps.values_list("position", flat=True)) == [1, 2]


@pytest.mark.services  # the swap and renumbering under PostgreSQL's unique check too
def test_a_starter_lesson_is_copied_to_edit(client, instructor, other_instructor, starters):
    starter = starters["loss-curve"]
    step = starter.steps.get(position=2)
    client.force_login(instructor)
    page = client.get(reverse("lessons:edit", args=[starter.pk])).content.decode()
    assert "Copy to edit" in page and "Change this step" not in page
    for url in (reverse("lessons:step_edit", args=[starter.pk, step.pk]),
                reverse("lessons:step_move", args=[starter.pk, step.pk]),
                reverse("lessons:step_delete", args=[starter.pk, step.pk])):
        response = client.post(url, {"direction": "up"})
        assert response.status_code == 403, url
        assert "copy it" in response.content.decode()
    response = client.post(reverse("lessons:copy_lesson", args=[starter.pk]))
    copy = Lesson.objects.get(author=instructor)
    assert response.status_code == 302 and response["Location"].endswith(f"/{copy.pk}/")
    assert copy.title == "What a loss curve says (copy)" and copy.summary == starter.summary
    assert titles(copy) == titles(starter)
    mine = copy.steps.get(position=2)
    assert (mine.challenge, mine.preset, mine.locked, mine.pack_id) == (
        step.challenge, step.preset, step.locked, step.pack_id)
    assert client.post(reverse("lessons:step_move", args=[copy.pk, mine.pk]),
                       {"direction": "up"}).status_code == 302
    assert titles(starter)[0] == "The uniform guess"  # the starter is as it was
    assert titles(copy)[0] == "Falling loss"
    client.force_login(other_instructor)  # another instructor's lesson: not even seen
    assert client.post(reverse("lessons:copy_lesson", args=[copy.pk])).status_code == 404


@pytest.mark.parametrize("who", ["instructor", "admin", "other_instructor", "student",
                                 "anonymous"])
def test_who_may_change_a_lesson(client, request, who, lesson):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    if user is not None:
        client.force_login(user)
    train = lesson.steps.get(title="Train")
    edit = reverse("lessons:step_edit", args=[lesson.pk, train.pk])
    move = reverse("lessons:step_move", args=[lesson.pk, train.pk])
    copy = reverse("lessons:copy_lesson", args=[lesson.pk])
    responses = [client.get(edit), client.post(edit, posted(train, title="Changed")),
                 client.post(move, {"direction": "up"}), client.post(copy)]
    codes = [r.status_code for r in responses]
    if who in ("instructor", "admin"):
        assert codes == [200, 302, 302, 302]
        assert titles(lesson) == ["Changed", "Read", "Think"]
        assert Lesson.objects.filter(author=user, title="Sums (copy)").exists()
        return
    if who == "anonymous":
        assert all(r.status_code == 302 and "/accounts/login/" in r["Location"]
                   for r in responses)
    else:
        assert codes == [{"student": 403, "other_instructor": 404}[who]] * 4
    assert titles(lesson) == ["Read", "Train", "Think"]
    assert Lesson.objects.count() == 1


def test_a_step_of_another_lesson_or_none_is_a_404(client, instructor, lesson):
    other = Lesson.objects.create(title="Other", author=instructor)
    theirs = Step.objects.create(lesson=other, position=1, title="x", instructions="x")
    client.force_login(instructor)
    for args in ((lesson.pk, theirs.pk), (lesson.pk, 999999), (999999, theirs.pk)):
        assert client.get(reverse("lessons:step_edit", args=args)).status_code == 404
        assert client.post(reverse("lessons:step_move", args=args),
                           {"direction": "up"}).status_code == 404


def test_the_author_changes_the_title_and_summary(client, instructor, other_instructor,
                                                  lesson, starters):
    url = reverse("lessons:edit", args=[lesson.pk])
    client.force_login(instructor)
    assert "Change the lesson's title or summary" in client.get(url).content.decode()
    response = client.post(url, {"part": "lesson", "lesson-title": "", "lesson-summary": "s"})
    assert response.status_code == 400 and "This field is required." in response.content.decode()
    response = client.post(url, {"part": "lesson", "lesson-title": "Sums, slowly",
                                 "lesson-summary": "Step by step."})
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert (lesson.title, lesson.summary) == ("Sums, slowly", "Step by step.")
    assert lesson.steps.count() == 3  # no step added by the lesson's form
    starter = starters["loss-curve"]
    assert client.post(reverse("lessons:edit", args=[starter.pk]),
                       {"part": "lesson", "lesson-title": "Mine"}).status_code == 403
    client.force_login(other_instructor)
    assert client.post(url, {"part": "lesson", "lesson-title": "Theirs"}).status_code == 404
    lesson.refresh_from_db()
    assert lesson.title == "Sums, slowly"
