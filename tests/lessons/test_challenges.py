"""The challenge predicates on hand-built cases, each figure worked out by hand."""

import pytest

from lessons.challenges import (
    MET,
    NOT_MET,
    PENDING,
    Challenge,
    head_role,
    share_at_least,
    train_loss,
    val_gap,
    val_loss,
)


def steps(losses, first=1):
    return [(first + i, loss) for i, loss in enumerate(losses)]


def test_train_loss_is_met_at_the_first_step_whose_window_mean_reaches_the_target():
    # window 2: means 3.0 (steps 1-2), 2.5 (2-3), 1.5 (3-4): ≤ 1.5 first at step 4
    verdict = train_loss(steps([3, 3, 2, 1, 0]), 1.5, window=2)
    assert (verdict.state, verdict.step, verdict.value) == (MET, 4, 1.5)


def test_train_loss_needs_a_whole_window_and_is_pending_meanwhile():
    assert train_loss(steps([0.1]), 1.0, window=2).state == PENDING


def test_train_loss_by_step_fails_once_the_deadline_passed_without_it():
    verdict = train_loss(steps([3, 3, 3, 3]), 1.0, by_step=3, window=2)
    assert verdict.state == NOT_MET and verdict.value == 3.0
    late = train_loss(steps([3, 3, 3, 0, 0]), 1.0, by_step=3, window=2)
    assert late.state == NOT_MET  # reached at step 5, after the deadline


def test_train_loss_after_a_check_looks_only_at_newer_steps_with_the_window_before():
    # checked up to step 3 already; the points include the window before (step 3)
    verdict = train_loss(steps([2, 1], first=3), 1.5, after=3, window=2)
    assert (verdict.state, verdict.step) == (MET, 4)


def test_a_run_that_ended_without_meeting_it_is_not_met():
    assert train_loss(steps([3, 3]), 1.0, finished=True, window=2).state == NOT_MET


def test_non_finite_losses_are_skipped_by_the_smoothing():
    verdict = train_loss(steps([None, 1.0]), 1.0, window=2)
    assert (verdict.state, verdict.step, verdict.value) == (MET, 2, 1.0)


def test_val_loss_uses_the_evaluation_points_as_they_are():
    verdict = val_loss([(1, 3.2), (50, 2.4), (100, 1.9)], 2.0)
    assert (verdict.state, verdict.step) == (MET, 100)
    assert val_loss([(1, 3.2), (50, 2.4)], 2.0, by_step=50).state == NOT_MET


def test_sample_share_is_per_batch():
    batches = [(100, [True, False, False, False]), (200, [True, True, True, False])]
    assert share_at_least(batches, 0.75).step == 200  # 1/4 then 3/4
    assert share_at_least(batches, 0.8).state == PENDING
    assert share_at_least(batches, 0.8, finished=True).state == NOT_MET
    assert share_at_least([(100, [None, None])], 0.1).state == PENDING  # no template


def roles(prev_scores_by_layer):
    """head_roles with the previous-token score of each head (the other roles 0)."""
    return {"scores": [[[s, 0, 0, 0, 0] for s in layer] for layer in prev_scores_by_layer],
            "even": [0.1] * 5}


def test_head_role_is_met_when_any_head_of_the_layer_scores_enough():
    points = [(1, roles([[0.1, 0.2], [0.1, 0.1]])), (40, roles([[0.1, 0.3], [0.6, 0.1]]))]
    verdict = head_role(points, "previous", 0.5)
    assert (verdict.state, verdict.step, verdict.value) == (MET, 40, 0.6)
    in_layer_0 = head_role(points, "previous", 0.5, layer=0)
    assert in_layer_0.state == PENDING and in_layer_0.value == 0.3


def test_val_gap_is_judged_at_the_end_at_the_last_evaluation():
    losses = [3.0, 2.0, 1.0, 1.0]
    # last evaluation at step 4: val 1.4, train mean of steps 3-4 (window 2) = 1.0, gap 0.4
    assert val_gap(losses, [(2, 2.5), (4, 1.4)], 0.5).state == PENDING
    met = val_gap(losses, [(2, 2.5), (4, 1.4)], 0.5, finished=True, window=2)
    assert met.state == MET and met.step == 4 and met.value == pytest.approx(0.4)
    assert val_gap(losses, [(4, 1.4)], 0.3, finished=True, window=2).state == NOT_MET


@pytest.mark.parametrize(
    "data, message",
    [
        ({"kind": "nope", "target": 1}, "unknown challenge kind"),
        ({"kind": "train_loss"}, "needs a number"),
        ({"kind": "train_loss", "target": -1}, "zero or more"),
        ({"kind": "template_share", "target": 80}, "between 0 and 1"),
        ({"kind": "head_role", "target": 0.5, "role": "telepathy"}, "unknown head role"),
    ],
)
def test_a_bad_challenge_says_what_is_wrong(data, message):
    with pytest.raises(ValueError, match=message):
        Challenge.from_dict(data)


def test_every_kind_has_plain_words():
    for data in (
        {"kind": "train_loss", "target": 1.5, "by_step": 400},
        {"kind": "val_loss", "target": 2},
        {"kind": "fewest_steps", "target": 1.2},
        {"kind": "template_share", "target": 0.8},
        {"kind": "correct_share", "target": 0.5},
        {"kind": "head_role", "target": 0.5, "role": "previous", "layer": 1},
        {"kind": "val_gap", "target": 0.3},
    ):
        challenge = Challenge.from_dict(data)
        assert Challenge.from_dict(challenge.to_dict()) == challenge
        assert len(challenge.words()) > 30
    assert "by step 400" in Challenge.from_dict({"kind": "train_loss", "target": 1.5,
                                                  "by_step": 400}).words()
