"""runs/fork.py: a fork replays its parent exactly up to its step, then goes its own way."""

import pytest
from django.urls import reverse

from engine import Trainer
from runs.evaluation import trainer_for
from runs.fork import ForkForm, child_history, start_fork
from runs.models import Kind, Run
from runs.training import train_run
from tests.runs.conftest import TINY


def trained(run):
    assert train_run(run.pk, "test-worker")
    return Run.objects.get(pk=run.pk)


def fork(user, parent, step, **changes):
    """A trained child of `parent` forked by `user` at `step` with `changes`."""
    data = {**ForkForm.initial_for(parent, {}), "step": step, **changes}
    form = ForkForm(user, parent, data)
    assert form.is_valid(), form.errors
    return trained(start_fork(user, form))


@pytest.fixture
def parent(student, start_run):
    return trained(start_run(student))


@pytest.mark.services  # PostgreSQL too: the copy of events and blobs
def test_a_fork_with_unchanged_settings_reproduces_its_parent_exactly(student, parent):
    child = fork(student, parent, 12)
    assert child.status == Run.Status.COMPLETED
    assert child.parent == parent and child.fork_step == 12
    ours, theirs = child.step_series(), parent.step_series()
    assert ours["step"] == theirs["step"] == list(range(1, TINY["num_steps"] + 1))
    assert ours["loss"] == theirs["loss"]  # exactly, not approximately
    assert ours["lr"] == theirs["lr"]
    assert child.eval_series() == parent.eval_series()
    assert child.final_loss == parent.final_loss
    assert child.snapshot_steps() == parent.snapshot_steps()


@pytest.mark.services  # PostgreSQL too: the copy of events and blobs
def test_a_fork_with_another_learning_rate_matches_up_to_its_step_then_differs(student, parent):
    k = 12
    child = fork(student, parent, k, learning_rate=0.05)
    ours, theirs = child.step_series()["loss"], parent.step_series()["loss"]
    assert ours[:k] == theirs[:k]
    # step k + 1 is trained with the parameters after step k (the same), so its loss is too;
    # its update is not, and every later step differs
    assert ours[k] == theirs[k]
    assert all(a != b for a, b in zip(ours[k + 1:], theirs[k + 1:], strict=True))
    lrs = child.step_series()["lr"]
    assert lrs[k] == pytest.approx(0.05 * (1 - k / TINY["num_steps"]))  # its own schedule


def test_the_fork_equals_an_independent_engine_run_that_switches_at_the_step(student, parent):
    """An independent calculation: the engine's Trainer run by hand, k steps with the parent's
    settings, then the learning rate changed on the same trainer object."""
    k, lr = 9, 0.03
    child = fork(student, parent, k, learning_rate=lr)
    by_hand = trainer_for(parent.pack.documents, parent.config)
    losses = [by_hand.step().loss for _ in range(k)]
    by_hand.learning_rate = lr
    losses += [by_hand.step().loss for _ in range(TINY["num_steps"] - k)]
    stored = child.step_series()["loss"]
    assert stored == pytest.approx(losses, rel=1e-6)


@pytest.mark.services  # PostgreSQL too: the copy of events and blobs
def test_a_fork_whose_worker_was_lost_resumes_bit_for_bit(student, parent):
    """A worker stored the fork's steps up to 20 and was lost: the next one replays the
    parent's schedule to 12 and the fork's own to 20, then goes on exactly as before."""
    reference = fork(student, parent, 12, learning_rate=0.05)
    data = {**ForkForm.initial_for(parent, {}), "step": 12, "learning_rate": 0.05}
    form = ForkForm(student, parent, data)
    assert form.is_valid()
    child = start_fork(student, form)
    stored = reference.events.filter(step__gt=12, step__lte=20).exclude(kind=Kind.COMPLETED)
    child.append_events([(e.kind, e.step, e.data) for e in stored.order_by("seq")],
                        current_step=20)
    Run.objects.filter(pk=child.pk).update(worker_losses=1)
    child = trained(child)
    assert child.step_series()["loss"] == reference.step_series()["loss"]
    assert child.final_loss == reference.final_loss


def test_continue_is_a_fork_at_the_last_step_with_more_steps(student, parent):
    last = parent.current_step
    child = fork(student, parent, last, num_steps=last + 20)
    series = child.step_series()
    assert series["step"] == list(range(1, last + 21))
    assert series["loss"][:last] == parent.step_series()["loss"]
    assert series["lr"][last] == pytest.approx(TINY["learning_rate"] * (1 - last / (last + 20)))
    assert child.current_step == child.num_steps == last + 20
    # the parent's samples up to its end, then the child's own
    assert {s["step"] for s in child.samples()} >= {10, 20, 30, 40, 50}


def test_a_fork_of_a_fork_replays_both_histories(student, parent):
    child = fork(student, parent, 10, learning_rate=0.05)
    grandchild = fork(student, child, 20)
    assert grandchild.config["history"] == [[10, 0.01, 30], [20, 0.05, 30]]
    assert grandchild.step_series()["loss"] == child.step_series()["loss"]
    # before the child's own fork: the parent's schedule, then the child's settings
    earlier = fork(student, child, 5)
    assert earlier.config["history"] == [[5, 0.01, 30]]
    cousin = fork(student, parent, 5, learning_rate=0.05)
    assert earlier.step_series()["loss"] == cousin.step_series()["loss"]


def test_child_history_cuts_the_parents_history_at_the_step():
    config = {"learning_rate": 0.2, "num_steps": 100, "history": [[10, 0.1, 50], [40, 0.3, 60]]}
    assert child_history(config, 5) == [[5, 0.1, 50]]
    assert child_history(config, 30) == [[10, 0.1, 50], [30, 0.3, 60]]
    assert child_history(config, 70) == [[10, 0.1, 50], [40, 0.3, 60], [70, 0.2, 100]]
    assert child_history({"learning_rate": 0.2, "num_steps": 100}, 7) == [[7, 0.2, 100]]


def test_the_engines_learning_rate_follows_the_history_then_its_own():
    docs = ["ab", "ba"]
    settings = {"n_embd": 8, "n_head": 2, "n_layer": 1, "block_size": 4, "num_steps": 10,
                "learning_rate": 0.5}
    trainer = Trainer(docs, **settings, history=[[2, 0.1, 4], [5, 0.2, 8]])
    rates = []
    while not trainer.done:
        rates.append(trainer.lr())
        trainer.step()
    by_hand = ([0.1 * (1 - s / 4) for s in (0, 1)] + [0.2 * (1 - s / 8) for s in (2, 3, 4)]
               + [0.5 * (1 - s / 10) for s in range(5, 10)])
    assert rates == pytest.approx(by_hand)
    assert trainer.settings["history"] == [[2, 0.1, 4], [5, 0.2, 8]]


@pytest.mark.services  # PostgreSQL too: the copy of events and blobs
def test_a_fork_copies_what_its_parent_stored_up_to_the_step(student, parent):
    k = 12
    data = {**ForkForm.initial_for(parent, {}), "step": k}
    form = ForkForm(student, parent, data)
    assert form.is_valid(), form.errors
    child = start_fork(student, form)  # queued, not trained yet
    assert child.status == Run.Status.QUEUED and child.current_step == k
    assert child.step_series()["loss"] == parent.step_series()["loss"][:k]
    assert child.vocab == parent.vocab
    kept = [s for s in parent.snapshot_steps() if s <= k]
    assert child.snapshot_steps() == kept
    assert sorted(child.checkpoints.values_list("step", flat=True)) == kept
    assert child.events.filter(kind=Kind.EVAL, step__gt=k).count() == 0


# --- the form's refusals --------------------------------------------------------------------


def errors_of(user, parent, **data):
    form = ForkForm(user, parent, {**ForkForm.initial_for(parent, {}), **data})
    assert not form.is_valid()
    return form.errors


def test_the_step_must_be_one_the_parent_stored(student, parent):
    assert "Pick a step this run stored: 1 – 30" in errors_of(student, parent, step=31)["step"][0]
    assert "step" in errors_of(student, parent, step=0)
    assert "step" in errors_of(student, parent, step="ten")


def test_the_child_must_train_past_the_step_and_within_the_limits(student, parent):
    assert "train past step 30" in errors_of(student, parent, step=30)["num_steps"][0]
    assert "between 1 and 2,000" in errors_of(student, parent, num_steps=2001)["num_steps"][0]
    assert "Learning rate" in errors_of(student, parent, learning_rate=5)["learning_rate"][0]
    assert "temperature" in errors_of(student, parent, temperature=0)


def test_a_run_still_going_cannot_be_forked(student, start_run):
    running = start_run(student)
    assert "still going" in errors_of(student, running, step=0)["__all__"][0]


# --- the view: who may fork -------------------------------------------------------------------


def url(run):
    return reverse("runs:fork", args=[run.pk])


def post(client, run, **data):
    return client.post(url(run), {**ForkForm.initial_for(run, {}), **data})


def test_the_owner_forks_and_lands_on_the_child(client, student, parent):
    client.force_login(student)
    page = client.get(url(parent), {"step": 5, "num_steps": 40})
    assert page.status_code == 200
    assert 'value="5"' in page.content.decode() and 'value="40"' in page.content.decode()
    response = post(client, parent, step=12, learning_rate=0.02)
    child = Run.objects.get(parent=parent)
    assert response.status_code == 302 and response.url == reverse("runs:detail", args=[child.pk])
    assert child.owner == student and child.config["learning_rate"] == 0.02


def test_a_classmate_may_fork_a_shared_run_into_their_own(client, classmate, parent, classroom):
    parent.classroom = classroom
    parent.save()
    client.force_login(classmate)
    assert post(client, parent, step=5).status_code == 302
    child = Run.objects.get(parent=parent)
    assert child.owner == classmate and child.classroom is None  # private to the classmate


def test_the_owners_fork_stays_in_the_parents_classroom(client, student, parent, classroom):
    parent.classroom = classroom
    parent.save()
    client.force_login(student)
    assert post(client, parent, step=5).status_code == 302
    assert Run.objects.get(parent=parent).classroom == classroom


def test_a_classrooms_locked_settings_hold_for_its_forks(client, student, parent, classroom):
    classroom.default_config = {"learning_rate": 0.01}
    classroom.locked_fields = ["learning_rate"]
    classroom.save()
    Run.objects.filter(pk=parent.pk).update(classroom=classroom)
    parent.refresh_from_db()
    client.force_login(student)
    page = client.get(url(parent)).content.decode()
    assert "fixed by your classroom" in page
    assert post(client, parent, step=5, learning_rate=0.5).status_code == 302  # disabled: ignored
    assert Run.objects.get(parent=parent).config["learning_rate"] == 0.01


def test_the_instructor_of_the_class_may_fork(client, instructor, parent, classroom):
    client.force_login(instructor)
    assert client.get(url(parent)).status_code == 200
    assert post(client, parent, step=5).status_code == 302
    assert Run.objects.get(parent=parent).owner == instructor


def test_others_get_404_and_anonymous_the_login(client, outsider, classmate, make_user, parent):
    other_instructor = make_user("other-instructor", instructor=True)
    for user in (outsider, classmate, other_instructor):  # the run is not shared
        client.force_login(user)
        assert client.get(url(parent)).status_code == 404
        assert post(client, parent, step=5).status_code == 404
    client.logout()
    response = client.get(url(parent))
    assert response.status_code == 302 and "login" in response.url
    assert post(client, parent, step=5).status_code == 302
    assert not Run.objects.filter(parent=parent).exists()


def test_continue_asks_for_more_steps_from_the_last(client, student, parent):
    client.force_login(student)
    page = client.get(reverse("runs:detail", args=[parent.pk])).content.decode()
    assert f'id="run-continue" href="/runs/{parent.pk}/fork/?continue"' in page
    form = client.get(url(parent), {"continue": ""}).context["form"]
    assert form.initial["step"] == 30 and form.initial["num_steps"] == 60


def test_the_fork_page_of_a_run_still_going_says_to_wait(client, student, start_run):
    running = start_run(student)
    client.force_login(student)
    page = client.get(url(running)).content.decode()
    assert 'id="fork-still-going"' in page and "can be forked once it has ended" in page


def test_bad_input_is_a_400_with_the_reason(client, student, parent):
    client.force_login(student)
    response = post(client, parent, step=99)
    assert response.status_code == 400
    assert "Pick a step this run stored" in response.content.decode()
    assert not Run.objects.filter(parent=parent).exists()


def test_the_active_run_limit_applies_to_forks(client, student, parent, start_run, settings):
    settings.LAB_MAX_ACTIVE_RUNS = 1
    start_run(student)  # one queued already
    client.force_login(student)
    response = post(client, parent, step=5)
    assert response.status_code == 409
    assert "the limit is 1" in response.content.decode()
    assert not Run.objects.filter(parent=parent).exists()


def test_anyone_signed_in_may_fork_a_showcase_run(client, outsider, parent):
    Run.objects.filter(pk=parent.pk).update(showcase=True)
    client.force_login(outsider)
    assert post(client, parent, step=5).status_code == 302
    assert Run.objects.get(parent=parent).owner == outsider


def test_the_run_page_offers_to_compare_with_ones_own_runs(client, student, parent, start_run):
    other = start_run(student)
    client.force_login(student)
    page = client.get(reverse("runs:detail", args=[parent.pk])).content.decode()
    form = page.split('id="run-compare-with"')[1].split("</form>")[0]
    assert f'<input type="hidden" name="run" value="{parent.pk}">' in form
    assert f'<option value="{other.pk}">' in form and f'<option value="{parent.pk}">' not in form


def test_the_run_page_links_parent_and_children(client, student, parent):
    child = fork(student, parent, 12, learning_rate=0.02)
    client.force_login(student)
    page = client.get(reverse("runs:detail", args=[parent.pk])).content.decode()
    assert f'href="/runs/{child.pk}/"' in page and "(at step 12)" in page
    assert 'id="run-again"' in page and 'id="run-fork"' in page and 'id="run-continue"' in page
    page = client.get(reverse("runs:detail", args=[child.pk])).content.decode()
    assert f'href="/runs/{parent.pk}/"' in page
    assert "learning_rate 0.01 → <strong>0.02</strong>" in page
