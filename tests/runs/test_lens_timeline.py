"""runs/lenses/timeline.py and its part of runs/training.py: head roles scored while a run
trains, read back as a timeline; Leapfrog letters grows a previous-token head on 3 seeds."""

import numpy as np
import pytest
from django.core.cache import cache

from runs.lenses.roles import ROLES
from runs.lenses.timeline import (
    recomputed_roles,
    role_schedule,
    since,
    stored_roles,
    timeline,
)
from runs.management.commands.lens_emergence import leapfrog_pack, previous_token_step
from runs.models import Run
from runs.training import train_run

PREVIOUS, LOCAL = ROLES[0], ROLES[-1]


def test_role_schedule_spreads_points_and_keeps_snapshot_steps():
    assert role_schedule(10, points=5) == [1, 2, 4, 6, 8, 10]
    assert role_schedule(2000, [1, 7, 2000]) [:4] == [1, 7, 50, 100]
    assert len(role_schedule(2000)) == 41


def test_since_is_the_first_step_of_the_last_unbroken_stretch():
    steps = [1, 10, 20, 30, 40]
    assert since(steps, [None, PREVIOUS, LOCAL, PREVIOUS, PREVIOUS]) == (PREVIOUS, 30)
    assert since(steps, [PREVIOUS] * 5) == (PREVIOUS, 1)
    assert since(steps, [PREVIOUS, PREVIOUS, None, None, None]) is None


@pytest.fixture
def run(student, start_run):
    run = start_run(student, n_layer=2, num_steps=24, snapshot_interval=8)
    assert train_run(run.pk, "test-worker")
    return Run.objects.get(pk=run.pk)


@pytest.mark.services  # the JSON key lookup (has_key) on PostgreSQL too
def test_training_stores_role_scores_that_the_checkpoints_reproduce(run):
    stored = dict(stored_roles(run))
    assert sorted(stored) == role_schedule(24, run.snapshot_steps())
    cache.clear()
    again = dict(recomputed_roles(run))  # from the stored parameters, not the trainer
    assert sorted(again) == run.snapshot_steps()
    for step, roles in again.items():
        np.testing.assert_allclose(
            np.array(stored[step]["scores"], float), np.array(roles["scores"], float), atol=2e-4
        )
        assert stored[step]["even"] == roles["even"]


def test_the_timeline_has_every_head_at_every_scored_step(run):
    found = timeline(run)
    assert found["steps"] == role_schedule(24, run.snapshot_steps())
    assert [h["label"] for h in found["heads"]] == [
        "layer 0 · head 0", "layer 0 · head 1", "layer 1 · head 0", "layer 1 · head 1"
    ]
    for head in found["heads"]:
        assert len(head["roles"]) == len(found["steps"])
        assert head["sentence"].startswith(head["label"].capitalize())


def test_a_run_without_stored_scores_is_scored_from_its_checkpoints(run):
    for event in run.events.filter(data__has_key="head_roles"):
        del event.data["head_roles"]
        event.save()
    assert stored_roles(run) == []
    cache.clear()
    assert timeline(run)["steps"] == run.snapshot_steps()


@pytest.mark.parametrize("seed", [42, 1, 2])
def test_leapfrog_grows_a_previous_token_head_at_its_recommended_config(student, seed):
    from packs_app.sources import resolve_source
    from runs.lenses import leapfrog

    pack = leapfrog_pack()
    assert all(leapfrog.follows(line) for line in pack.documents)
    config = {**leapfrog.RECOMMENDED_CONFIG, "seed": seed}
    run = Run.objects.start(student, resolve_source(pack.slug, student), config)
    assert train_run(run.pk, "test-worker")
    run = Run.objects.get(pk=run.pk)
    step = previous_token_step(run)
    assert step is not None and step < 400  # within the first 400 of 500 steps
    sentences = [h["sentence"] for h in timeline(run)["heads"]]
    assert any(f"became a previous-token head around step {step}." in s for s in sentences)
