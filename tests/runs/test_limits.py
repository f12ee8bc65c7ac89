"""At most LAB_MAX_ACTIVE_RUNS runs queued or running per student; the next is refused
with a message and 409, and nothing is stored. (Simultaneous starts: tests/reliability.)"""

import pytest
from django.urls import reverse

from runs.models import Run
from tests.runs.conftest import TINY


def post_new_run(client, pack, **overrides):
    return client.post(reverse("runs:new"), {"pack": pack.slug, **TINY, **overrides})


def test_fourth_active_run_is_refused(client, student, pack, start_run, settings):
    settings.LAB_MAX_ACTIVE_RUNS = 3
    for _ in range(3):
        start_run(student)
    client.force_login(student)
    response = post_new_run(client, pack)
    assert response.status_code == 409
    assert b"You already have 3 runs queued or running; the limit is 3" in response.content
    assert Run.objects.filter(owner=student).count() == 3


def test_one_active_run_is_one_run(client, student, pack, start_run, settings):
    settings.LAB_MAX_ACTIVE_RUNS = 1
    start_run(student)
    client.force_login(student)
    html = post_new_run(client, pack).content.decode()
    assert (
        "You already have 1 run queued or running; the limit is 1. "
        "Wait for it to finish, or cancel it, then start this run."
    ) in html
    assert 'id="active-runs">You have <strong>1</strong> of 1 run queued or running.' in html


def test_finished_runs_do_not_count(client, student, pack, start_run, settings):
    settings.LAB_MAX_ACTIVE_RUNS = 3
    runs = [start_run(student) for _ in range(3)]
    runs[0].request_cancel()
    client.force_login(student)
    assert post_new_run(client, pack).status_code == 302
    assert Run.objects.filter(owner=student).active().count() == 3


def test_the_limit_is_per_student(client, student, classmate, pack, start_run, settings):
    settings.LAB_MAX_ACTIVE_RUNS = 1
    start_run(student)
    client.force_login(classmate)
    assert post_new_run(client, pack).status_code == 302


def test_htmx_refusal_swaps_the_form_with_the_message(client, student, pack, start_run, settings):
    settings.LAB_MAX_ACTIVE_RUNS = 1
    start_run(student)
    client.force_login(student)
    response = client.post(reverse("runs:new"), {"pack": pack.slug, **TINY}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    html = response.content.decode()
    assert html.lstrip().startswith("<form") and 'id="run-form-errors"' in html


@pytest.mark.services
def test_the_sample_budget_is_stated_and_enforced(client, student, pack):
    """Issue 11: sample every step, 20 at a time, held a worker for a minute and stored 3 MB."""
    from runs.config import samples_per_run

    client.force_login(student)
    form = client.get(reverse("runs:new")).content.decode()
    assert "at most 400 generated samples in all" in form and "about 100 KB" in form
    greedy = {"num_steps": 100, "sample_interval": 1, "sample_count": 20}
    response = post_new_run(client, pack, **greedy)
    assert response.status_code == 400
    assert "20 samples × 100 batches = 2,000 samples; a run may store at most 400" in (
        response.content.decode()
    )
    assert not Run.objects.exists()
    # at the budget exactly: 20 samples every 100 steps of 2,000 (and 7 steps: 3 batches)
    assert samples_per_run({"num_steps": 2000, "sample_interval": 100, "sample_count": 20}) == 400
    assert samples_per_run({"num_steps": 7, "sample_interval": 3, "sample_count": 1}) == 3
    fits = {"num_steps": 40, "sample_interval": 2, "sample_count": 20}  # 400
    assert post_new_run(client, pack, **fits).status_code == 302


def test_the_batches_counted_are_the_batches_the_engine_makes():
    from engine import Trainer
    from runs.config import sample_batches

    trainer = Trainer(["abc", "bca"], num_steps=7, sample_interval=3, sample_count=1,
                      n_embd=8, n_head=2, n_layer=1, block_size=8, learning_rate=0.01)  # fmt: skip
    batches = 0
    while not trainer.done:
        batches += trainer.step().samples is not None
    assert batches == sample_batches(7, 3) == 3
