"""runs/evaluation.py: the probe line (chosen by the seed, or typed), the validation split
and loss at 50+ points, copies among the samples, and the snapshot where a run stopped."""

import math

import numpy as np
import pytest

from engine import GPT, GPTConfig
from engine.evaluation import look
from packs_app.builtin import BUILTIN_PACKS
from runs import training
from runs.evaluation import EVAL_POINTS, Evaluator, default_probe, eval_schedule, probe_error
from runs.models import Kind, Run
from runs.probe_view import telling_position
from runs.training import train_run
from tests.runs.conftest import PACK_TEXT, TINY

DOCS = PACK_TEXT.splitlines()  # 100 lines like "3+4=7"


def trained(start_run, owner, **config):
    run = start_run(owner, **config)
    assert train_run(run.pk, "test-worker")
    return Run.objects.get(pk=run.pk)


def test_eval_schedule_has_50_points_or_more_and_every_snapshot():
    steps = eval_schedule(2000, [1, 500, 1000, 1500, 2000, 777])
    assert len(steps) >= EVAL_POINTS and steps[0] == 1 and steps[-1] == 2000
    assert 777 in steps and steps == sorted(set(steps))
    assert eval_schedule(30) == list(range(1, 31))


def test_the_default_probe_is_a_held_out_line_chosen_by_the_seed():
    settings = training.engine_settings(TINY)
    one = Evaluator(DOCS, settings)
    assert one.probe_source == "held-out" and one.probe_text in one.held_docs
    assert Evaluator(DOCS, settings).probe_text == one.probe_text  # deterministic
    others = {Evaluator(DOCS, {**settings, "seed": s}).probe_text for s in range(8)}
    assert len(others) > 1  # the seed picks it
    # a corpus too small to split: the probe is a training line
    text, source = default_probe(["ab", "abc"], [], seed=1, block_size=8)
    assert text in ("ab", "abc") and source == "training"


def test_probe_errors_say_what_is_wrong():
    assert probe_error("3+4=7", "+0123456789=", 16) == ""
    assert "8 characters" in probe_error("3+4=7777", "+0123456789=", 6)
    assert "'*'" in probe_error("3*4=12", "+0123456789=", 16)
    assert probe_error("", "ab", 4) == "Type at least one character."


def test_telling_position_is_where_the_target_probability_grew_most_never_bos():
    assert telling_position([0.9, 0.1, 0.2, 0.1], [0.1, 0.5, 0.9, 0.2]) == 2
    assert telling_position([0.0, 0.1], [1.0, 0.1]) == 1  # position 0 reads BOS: never
    assert telling_position([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]) == 2  # a tie: the latest
    assert telling_position([0.3], [0.9]) == 0


def test_a_run_stores_validation_and_the_probe_at_every_evaluation_step(student, start_run):
    run = trained(start_run, student, num_steps=30, snapshot_interval=10)
    started = run.started_data()
    assert (started["train_docs"], started["held_out_docs"]) == (90, 10)
    probe = started["probe"]
    settings = training.engine_settings(run.config)
    evaluator = Evaluator(DOCS, settings)
    assert probe["text"] == evaluator.probe_text and probe["source"] == "held-out"
    series = run.eval_series()
    assert series["step"] == eval_schedule(30, run.snapshot_steps())
    assert all(v is not None and 0 < v < 10 for v in series["val_loss"])
    # recompute the validation loss at step 1 independently: the untrained model
    model = GPT(GPTConfig(run.vocab_size, 8, 2, 1, 16), seed=TINY["seed"])
    losses = [look(model, t)["loss"] for t in evaluator.val_tokens]
    assert series["val_loss"][0] == pytest.approx(np.mean(losses), rel=1e-5)
    first = run.evaluation(1)["probe"]
    assert first["loss"] == pytest.approx(look(model, evaluator.probe_tokens)["loss"], rel=1e-4)
    assert len(first["losses"]) == len(probe["tokens"]) == len(first["target_probs"])
    assert math.fsum(first["losses"]) / len(first["losses"]) == pytest.approx(first["loss"],
                                                                             rel=1e-3)
    # the probe's attention rides with every snapshot
    for step in run.snapshot_steps():
        attention = run.probe_attention(step)
        assert attention["size"] == len(probe["tokens"])


def test_a_typed_probe_is_followed(student, start_run):
    run = trained(start_run, student, num_steps=5, probe_text="9+9=18")
    assert run.started_data()["probe"] == {
        "text": "9+9=18",
        "source": "yours",
        "focus": None,
        "trained_on": "9+9=18" in Evaluator(DOCS, training.engine_settings(TINY)).train_set,
        "tokens": run.started_data()["probe"]["tokens"],
        "targets": run.started_data()["probe"]["targets"],
    }
    assert len(run.started_data()["probe"]["tokens"]) == 7  # BOS + 6 characters


def test_a_packs_probe_line_is_followed_when_none_is_typed():
    settings = training.engine_settings(TINY)
    named = Evaluator(DOCS, settings, pack_probe=("19+1=20", 5))
    assert (named.probe_text, named.probe_source, named.probe_focus) == ("19+1=20", "pack", 5)
    about = named.about()["probe"]
    assert about["focus"] == 5 and about["trained_on"] is False
    assert len(about["tokens"]) == 8  # BOS + 7 characters
    # the student's own line wins over the pack's
    typed = Evaluator(DOCS, settings, "2+2=4", pack_probe=("19+1=20", 5))
    assert (typed.probe_text, typed.probe_source, typed.probe_focus) == ("2+2=4", "yours", None)
    # a pack line this run cannot read (too long for the block, or a character the text
    # lacks) gives way to the held-out line chosen by the seed
    default = Evaluator(DOCS, settings).probe_text
    for line in ("1+1=2" * 4, "1*1=1"):
        other = Evaluator(DOCS, settings, pack_probe=(line, 2))
        assert (other.probe_text, other.probe_source, other.probe_focus) == (
            default, "held-out", None)
    # a position past the end of the line is ignored (the page picks one itself)
    assert Evaluator(DOCS, settings, pack_probe=("1+1=2", 9)).probe_focus is None


@pytest.mark.parametrize("slug", sorted(BUILTIN_PACKS))
def test_each_packs_probe_improves_at_its_position_in_the_recommended_run(slug):
    """What a student sees first on a built-in pack's run page: the target probability at
    the pack's probe position, near a uniform guess at step 1, confident at the end."""
    spec = BUILTIN_PACKS[slug]
    config = spec.recommended_config
    evaluator = Evaluator(spec.lines(), {**training.engine_settings(config), "capture": False},
                          pack_probe=(spec.probe_line, spec.probe_focus))
    assert evaluator.probe_source == "pack"
    first = evaluator.evaluate()[0]["probe"]["target_probs"][spec.probe_focus]
    while not evaluator.trainer.done:
        evaluator.trainer.step()
    last = evaluator.evaluate()[0]["probe"]["target_probs"][spec.probe_focus]
    assert first < 0.2 and last > 0.5 and last - first > 0.4, (first, last)


def test_a_run_on_a_pack_with_a_probe_line_opens_on_its_position(client, student, start_run,
                                                                 pack):
    pack.probe_line, pack.probe_focus = "19+1=20", 5
    pack.save()
    run = trained(start_run, student, num_steps=20)
    probe = run.started_data()["probe"]
    assert (probe["text"], probe["source"], probe["focus"]) == ("19+1=20", "pack", 5)
    client.force_login(student)
    html = " ".join(client.get(f"/runs/{run.pk}/").content.decode().split())
    # position 5 reads "=" and must predict "2": the first thing the page shows
    assert 'After <span class="mono">=</span> (position 5) the model guesses' in html
    assert "a line the pack chose, not in its text, so the model never learns it" in html
    # and so does the strip fetched when the student scrubs to another step
    scrubbed = client.get(f"/runs/{run.pk}/snapshot/?step=1&scrubber=1").content.decode()
    assert "a line the pack chose, not in its text" in " ".join(scrubbed.split())
    # without a named position the page picks one itself, never BOS
    pack.probe_focus = None
    pack.save()
    run = trained(start_run, student, num_steps=20)
    html = " ".join(client.get(f"/runs/{run.pk}/").content.decode().split())
    assert "(position 0) the model guesses" not in html and "(position " in html


def recomputed_probe(run, step):
    """The probe's evaluation at `step`, recomputed here by replaying the pack's line."""
    evaluator = Evaluator(DOCS, training.engine_settings(run.config),
                          pack_probe=("19+1=20", 5))
    evaluator.trainer.replay(step - 1)
    return evaluator.evaluate()[0]["probe"]


def test_a_tiny_corpus_trains_on_everything_and_says_so(client, student, start_run, pack):
    pack.text = "1+1=2\n2+2=4\n3+3=6"
    pack.save()
    run = trained(start_run, student, num_steps=10)
    assert run.started_data()["held_out_docs"] == 0
    assert set(run.eval_series()["val_loss"]) == {None}
    client.force_login(student)
    html = client.get(f"/runs/{run.pk}/").content.decode()
    assert "This text has only 3 lines: too few to hold some out" in html


def test_samples_that_copy_a_training_line_are_marked(student, start_run, client):
    evaluator = Evaluator(DOCS, training.engine_settings(TINY))
    held = evaluator.held_docs[0]
    train = evaluator.train_docs[0]
    assert evaluator.copied([train, held, "", "12+"]) == [True, False, False, False]
    run = trained(start_run, student, num_steps=20, sample_interval=10, sample_count=3)
    for sample in run.samples():
        assert sample["copied"] == (sample["text"] in evaluator.train_set)
    client.force_login(student)
    html = client.get(f"/runs/{run.pk}/").content.decode()
    batch = [s for s in run.samples() if s["step"] == 20]
    assert f"<strong>{sum(s['copied'] for s in batch)}</strong> copied from the training text" in (
        " ".join(html.split()))


def test_a_canceled_run_keeps_a_snapshot_of_the_step_where_it_stopped(
    student, start_run, monkeypatch, pack
):
    pack.probe_line, pack.probe_focus = "19+1=20", 5
    pack.save()
    run = start_run(student, num_steps=200, snapshot_interval=100)
    original = Run.append_events

    def cancel_at_37(self, events, *args, **kwargs):
        result = original(self, events, *args, **kwargs)
        if kwargs.get("current_step", 0) >= 37:
            Run.objects.filter(pk=self.pk).update(cancel_requested=True)
            return result[0], True
        return result

    monkeypatch.setattr(training, "FLUSH_SECONDS", 0)
    monkeypatch.setattr(Run, "append_events", cancel_at_37)
    train_run(run.pk, "test-worker")
    run = Run.objects.get(pk=run.pk)
    assert run.status == Run.Status.CANCELED and run.current_step == 37
    assert run.snapshot_steps() == [1, 37]
    snapshot = run.snapshot(37)
    # the recomputed step 37 is the one that trained: same loss as its step event
    stored = run.events.get(kind=Kind.STEP, step=37).data["loss"]
    assert snapshot["loss"] == pytest.approx(stored, rel=1e-6)
    assert run.params_at(37) is not None and run.evaluation(37) is not None
    # the recomputed evaluation follows the run's own probe line (the pack's): BOS + 7
    assert len(run.evaluation(37)["probe"]["target_probs"]) == 8
    assert run.evaluation(37)["probe"] == recomputed_probe(run, 37)
    assert run.events.filter(kind=Kind.SNAPSHOT, step=37).get().seq < run.terminal_event().seq
