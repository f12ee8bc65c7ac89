"""Each diagnostic on hand-built runs: one that fires it, ones that must stay quiet."""

import math
from urllib.parse import parse_qs, urlsplit

from runs.diagnostics import (
    RunData,
    dead_relus,
    diagnose,
    diverged,
    lines_cut,
    lines_cut_count,
    memorising,
    not_learning,
    smoothed,
    try_url,
)

V = 40
UNIFORM = math.log(V)  # 3.69


def falling(n, start=4.0, end=1.0):
    return [start + (end - start) * i / (n - 1) for i in range(n)]


def test_smoothed_is_the_mean_of_the_last_20_finite_losses():
    assert smoothed([9.0] * 5 + [1.0] * 10 + [2.0] * 10) == 1.5
    assert smoothed([None, float("nan")]) is None


def test_diverged_fires_on_a_non_finite_loss_and_on_a_loss_far_above_uniform():
    assert diverged([3.0, None, 2.0], V).code == "diverged"
    assert diverged([3.0, float("inf")], V) is not None
    high = diverged([4.0] * 100 + [497.0] * 20, V)
    assert high is not None and "497" in high.explanation and "ln 40" in high.explanation
    # 1.5 × ln 40 = 5.53: just below stays quiet, just above fires
    assert diverged([5.5] * 20, V) is None
    assert diverged([5.6] * 20, V) is not None
    # a huge loss reads as a whole number with its thousands marked, not 515250.00
    assert "smoothed loss is 515,250," in diverged([515250.0] * 20, V).explanation


def test_diverged_stays_quiet_on_a_healthy_run_that_starts_above_uniform():
    assert diverged([4.15] * 5 + falling(500, 3.6, 0.9), V) is None


def test_not_learning_fires_late_near_the_uniform_guess_only():
    stuck = [UNIFORM + 0.02] * 600
    assert not_learning(stuck, V, 800).code == "not_learning"
    assert not_learning(stuck[:300], V, 800) is None  # not late enough: 300 < 400
    assert not_learning([0.95 * UNIFORM] * 600, V, 800) is not None
    assert not_learning([0.85 * UNIFORM] * 600, V, 800) is None  # it learnt something
    assert not_learning([10.0] * 600, V, 800) is None  # that is `diverged`
    assert not_learning([UNIFORM] * 60, V, 60) is None  # under 100 steps: too early


def test_memorising_fires_when_validation_rises_while_training_falls():
    losses = falling(1000, 3.5, 0.2)
    steps = list(range(100, 1001, 100))
    val = [3.0, 2.2, 1.8, 1.6, 1.7, 1.9, 2.1, 2.3, 2.5, 2.6]
    finding = memorising(steps, val, losses)
    assert finding.code == "memorising" and "step 400" in finding.explanation
    assert finding.changes == {"num_steps": 400}


def test_memorising_stays_quiet_when_validation_keeps_falling_or_wobbles():
    losses = falling(1000, 3.5, 0.5)
    steps = list(range(100, 1001, 100))
    assert memorising(steps, [3.0, 2.5, 2.2, 2.0, 1.9, 1.8, 1.75, 1.7, 1.7, 1.68], losses) is None
    # a wobble of 0.05 is no rise
    wobble = [3.0, 2.5, 2.0, 1.8, 1.7, 1.75, 1.72, 1.74, 1.75, 1.74]
    assert memorising(steps, wobble, losses) is None
    # rising validation while training rises too is not memorising (that is divergence)
    rising = falling(1000, 1.0, 3.0)
    assert memorising(steps, [3.0, 2.0, 1.6, 1.7, 1.9, 2.1, 2.3, 2.5, 2.6, 2.7], rising) is None
    assert memorising(steps[:4], [3.0, 1.0, 2.0, 3.0], losses) is None  # too few points
    assert memorising(steps, [None] * 10, losses) is None  # no held-out lines


def test_memorising_needs_a_sustained_rise_over_the_last_three_points():
    losses = falling(1000, 3.5, 0.5)
    steps = list(range(100, 1001, 100))
    # best 1.0 at step 500: a rise needs every one of the last 3 points at >= 1.1
    assert memorising(steps, [3.0, 2.0, 1.5, 1.2, 1.0, 1.02, 1.03, 1.12, 1.15, 1.2], losses)
    # one point dipped back to 1.08: not for good yet
    assert memorising(steps, [3.0, 2.0, 1.5, 1.2, 1.0, 1.02, 1.03, 1.12, 1.08, 1.3], losses) is None
    # a single high last point is one unlucky measurement, not a trend
    assert memorising(steps, [3.0, 2.0, 1.5, 1.2, 1.0, 1.02, 1.01, 1.03, 1.02, 1.5], losses) is None
    # the best among the last three points: nothing has risen yet
    assert memorising(steps, [3.0, 2.0, 1.5, 1.2, 1.1, 1.05, 1.04, 1.03, 1.0, 1.2], losses) is None


def test_memorising_asks_more_of_a_validation_loss_that_jumps_about():
    losses = falling(1000, 3.5, 0.5)
    steps = list(range(100, 1001, 100))
    # after the best (1.0) the loss moves 0.1 from point to point (the median jump):
    # 3 × 0.1 = 0.3 is the rise needed, and the last points sit 0.2 above the best
    jumpy = [3.0, 2.0, 1.5, 1.2, 1.0, 1.3, 1.2, 1.3, 1.2, 1.25]
    assert memorising(steps, jumpy, losses) is None
    # the same jumps around a level 0.45 above the best: a real rise
    assert memorising(steps, [3.0, 2.0, 1.5, 1.2, 1.0, 1.3, 1.4, 1.5, 1.4, 1.45], losses)


def test_lines_cut_counts_lines_whose_end_the_model_never_sees():
    # a line of L characters needs block_size >= L + 1
    assert lines_cut_count([3, 4, 5], 4) == (3, 2)  # 4 + 1 > 4: its closing BOS is cut
    sixty = [5] * 60
    finding = lines_cut(sixty, 4)
    assert finding.explanation.startswith("Block size 4 cuts 60 of 60 lines")
    assert finding.changes == {"block_size": 6}
    assert lines_cut(sixty, 6) is None
    assert lines_cut([5] * 95 + [40] * 5, 16) is None  # 5 % cut: under a tenth
    assert lines_cut([80] * 10, 32).changes == {"block_size": 64}  # the largest allowed
    assert lines_cut([], 8) is None


def test_dead_relus_fires_at_half_the_units_or_more():
    assert dead_relus(0.6).code == "dead_relus" and "60%" in dead_relus(0.6).explanation
    assert dead_relus(0.49) is None
    assert dead_relus(None) is None


def healthy(**overrides):
    data = RunData(
        vocab_size=V,
        num_steps=1000,
        losses=falling(1000, 4.1, 0.8),
        config={"learning_rate": 0.01, "num_steps": 1000, "block_size": 16},
        val_steps=list(range(20, 1001, 20)),
        val_losses=falling(50, 3.9, 1.0),
        doc_lengths=[7] * 60,
        dead_relu_share=0.05,
    )
    for name, value in overrides.items():
        setattr(data, name, value)
    return data


def test_diagnose_a_healthy_run_finds_nothing():
    assert diagnose(healthy()) == []


def test_diagnose_suggests_the_change_to_try():
    [finding] = diagnose(healthy(losses=[4.0] * 980 + [500.0] * 20))
    assert finding.code == "diverged" and finding.changes == {"learning_rate": 0.001}
    stuck = diagnose(healthy(losses=[UNIFORM] * 1000, config={"learning_rate": 0.0001,
                                                              "num_steps": 1000}))
    assert [f.code for f in stuck] == ["not_learning"] and stuck[0].changes == {
        "learning_rate": 0.001}
    codes = [f.code for f in diagnose(healthy(doc_lengths=[20] * 60, dead_relu_share=0.7))]
    assert codes == ["lines_cut", "dead_relus"]


def test_try_url_prefills_the_new_run_form():
    [finding] = diagnose(healthy(losses=[4.0] * 980 + [500.0] * 20))
    url = try_url("arithmetic", finding, config={"learning_rate": 0.01, "seed": 3})
    query = parse_qs(urlsplit(url).query)
    assert query == {"pack": ["arithmetic"], "learning_rate": ["0.001"], "seed": ["3"]}
