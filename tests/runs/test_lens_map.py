"""runs/lenses/embedding_map.py: the fixed 2-D basis, the neighbours, the frames of a run."""

import numpy as np
import pytest
from django.core.cache import cache

from runs.lenses.embedding_map import char_group, embedding_map, nearest, principal_directions
from runs.models import Run
from runs.training import train_run


def test_the_principal_directions_of_points_along_a_line():
    rng = np.random.default_rng(0)
    along = rng.normal(size=(40, 1)) * 5
    points = np.hstack([along, 0.1 * rng.normal(size=(40, 1)), np.zeros((40, 1))]) + 3
    mean, basis, explained = principal_directions(points)
    np.testing.assert_allclose(mean, points.mean(0))
    assert basis[:, 0] == pytest.approx([1, 0, 0], abs=1e-2)  # its sign made positive
    assert explained == pytest.approx(1.0, abs=1e-9)  # two directions hold all of 2-D data


def test_nearest_neighbours_by_cosine():
    vectors = np.array([[1.0, 0], [2.0, 0.1], [0, 1.0], [-1.0, 0]])
    found = nearest(vectors, count=2)
    assert [j for j, _ in found[0]] == [1, 2]
    assert found[0][0][1] == pytest.approx(0.999, abs=1e-3)
    assert found[3][-1] == (1, pytest.approx(-0.999, abs=1e-3))


def test_char_groups():
    assert [char_group(c) for c in ("a", "7", "␣", "=", "BOS")] == [
        "letter", "digit", "space", "punct", "bos"
    ]


def test_a_runs_frames_project_every_stored_step_on_the_final_basis(student, start_run):
    run = start_run(student, num_steps=12, snapshot_interval=4)
    assert train_run(run.pk, "test-worker")
    run = Run.objects.get(pk=run.pk)
    cache.clear()
    found = embedding_map(run)
    assert found["steps"] == run.snapshot_steps()
    assert len(found["labels"]) == run.vocab_size and found["labels"][-1] == "BOS"
    # independent: the covariance's top eigenvectors of the final wte
    first, final = run.params_at(found["steps"][0])["wte"], run.params_at(found["steps"][-1])["wte"]
    final = final.astype(np.float64)
    centred = final - final.mean(0)
    values, vectors = np.linalg.eigh(centred.T @ centred)
    top = vectors[:, ::-1][:, :2]
    for frame, wte in ((found["frames"][-1], final), (found["frames"][0], first)):
        expected = (wte.astype(np.float64) - final.mean(0)) @ top
        np.testing.assert_allclose(np.abs(frame), np.abs(expected), atol=2e-4)  # up to sign
    assert found["explained"] == pytest.approx(values[::-1][:2].sum() / values.sum(), abs=1e-3)
