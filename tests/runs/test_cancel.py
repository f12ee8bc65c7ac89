"""Cancel: POST /runs/<id>/cancel/ by the owner or their instructor; a queued run ends at
once, a running one at its trainer's next flush; exactly one run.canceled either way."""

import pytest
from django.urls import reverse

from runs import training
from runs.models import TERMINAL_KINDS, Kind, Run
from runs.training import train_run


def cancel_url(run):
    return reverse("runs:cancel", args=[run.pk])


def terminal_kinds(run):
    return list(run.events.filter(kind__in=TERMINAL_KINDS).values_list("kind", flat=True))


def test_owner_cancels_a_queued_run_at_once(client, student, start_run):
    run = start_run(student)
    client.force_login(student)
    response = client.post(cancel_url(run))
    assert response.status_code == 302
    assert response.url == reverse("runs:detail", args=[run.pk])
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELED and run.finished_at is not None
    assert terminal_kinds(run) == [Kind.CANCELED]
    # a worker that gets the task later does nothing
    assert not train_run(run.pk, "late-worker")


def test_htmx_cancel_answers_204(client, student, start_run):
    run = start_run(student)
    client.force_login(student)
    response = client.post(cancel_url(run), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert Run.objects.get(pk=run.pk).status == Run.Status.CANCELED


def test_cancel_of_a_running_run_lands_at_the_next_flush(student, start_run, monkeypatch):
    run = start_run(student, num_steps=500, sample_count=0)
    flushes = []
    original = Run.append_events

    def cancel_after_step_40(self, events, *args, **kwargs):
        result = original(self, events, *args, **kwargs)
        flushes.append(kwargs.get("current_step"))
        if kwargs.get("current_step", 0) >= 40 and not self.cancel_requested:
            Run.objects.get(pk=self.pk).request_cancel()  # as the view would, mid-run
        return result

    monkeypatch.setattr(Run, "append_events", cancel_after_step_40)
    monkeypatch.setattr(training, "FLUSH_SECONDS", 0)
    train_run(run.pk, "test-worker")
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELED
    assert terminal_kinds(run) == [Kind.CANCELED]
    # the flag is read back by the very next flush: one step later at most
    assert run.current_step <= 41
    assert run.terminal_event().data["step"] == run.current_step


def test_cancel_of_a_finished_run_changes_nothing(client, student, start_run):
    run = start_run(student, num_steps=5)
    train_run(run.pk, "test-worker")
    client.force_login(student)
    client.post(cancel_url(run))
    run.refresh_from_db()
    assert run.status == Run.Status.COMPLETED
    assert terminal_kinds(run) == [Kind.COMPLETED]


def test_instructor_of_the_owners_classroom_may_cancel(
    client, student, instructor, classroom, start_run
):
    run = start_run(student)
    client.force_login(instructor)
    assert client.post(cancel_url(run)).status_code == 302
    assert Run.objects.get(pk=run.pk).status == Run.Status.CANCELED


@pytest.mark.parametrize("who, status", [("classmate", 403), ("outsider", 404)])
def test_others_may_not_cancel(
    client, student, classmate, outsider, classroom, start_run, who, status
):
    run = start_run(student, classroom=classroom)  # shared: the classmate may watch it
    client.force_login({"classmate": classmate, "outsider": outsider}[who])
    assert client.post(cancel_url(run)).status_code == status
    assert Run.objects.get(pk=run.pk).status == Run.Status.QUEUED


def test_unshared_run_is_invisible_to_a_classmate(client, student, classmate, classroom, start_run):
    run = start_run(student)
    client.force_login(classmate)
    assert client.post(cancel_url(run)).status_code == 404


def test_anonymous_is_sent_to_log_in(client, student, start_run):
    run = start_run(student)
    response = client.post(cancel_url(run))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert Run.objects.get(pk=run.pk).status == Run.Status.QUEUED


def test_cancel_needs_post(client, student, start_run):
    run = start_run(student)
    client.force_login(student)
    assert client.get(cancel_url(run)).status_code == 405


def test_the_owners_own_cancel_needs_no_note(client, student, start_run):
    run = start_run(student)
    client.force_login(student)
    client.post(cancel_url(run))
    run.refresh_from_db()
    assert run.status == Run.Status.CANCELED and run.canceled_by_note == ""
    assert "Canceled by" not in client.get(reverse("runs:detail", args=[run.pk])).content.decode()
