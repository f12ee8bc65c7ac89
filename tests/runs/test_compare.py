"""runs/compare.py and its page /runs/compare/: 2 to 6 runs the viewer may see, side by side."""

import json

import pytest
from django.urls import reverse

from engine.evaluation import look
from runs.compare import final_figures, probe_predictions
from runs.evaluation import Evaluator
from runs.models import Run
from runs.training import engine_settings, train_run


def trained(start_run, owner, **config):
    run = start_run(owner, **config)
    assert train_run(run.pk, "test-worker")
    return Run.objects.get(pk=run.pk)


def compare_url(*runs, **extra):
    query = "&".join([f"run={getattr(r, 'pk', r)}" for r in runs]
                     + [f"{k}={v}" for k, v in extra.items()])
    return f"{reverse('runs:compare')}?{query}"


def overlay_of(body):
    script = body.split('id="compare-data" type="application/json">')[1]
    return json.loads(script.split("</script>")[0])


@pytest.fixture
def three(student, start_run):
    return [trained(start_run, student), trained(start_run, student, learning_rate=0.05),
            trained(start_run, student, seed=3)]


def test_three_runs_side_by_side(client, student, three):
    client.force_login(student)
    response = client.get(compare_url(*three))
    assert response.status_code == 200
    body = response.content.decode()
    data = overlay_of(body)
    # a training curve (every step) and a validation curve (dashed) per run
    assert [c["label"].split(": ")[1] for c in data["curves"]] == [
        "training loss", "validation loss"] * 3
    for run, (train, val) in zip(three, zip(data["curves"][::2], data["curves"][1::2],
                                            strict=True), strict=True):
        assert train["steps"] == list(range(1, 31)) and train["loss"] == run.step_series()["loss"]
        assert val["dash"] and val["steps"] == run.eval_series()["step"]
    assert len(data["baselines"]) == 1
    # settings: the rows that differ are marked
    assert '<tr class="differs"><th scope="row">learning_rate' in body
    assert '<tr class="differs"><th scope="row">seed' in body
    assert '<tr><th scope="row">n_embd</th>' in body
    assert body.count('class="compare-column" data-run=') == 3
    assert 'id="compare-figures"' in body


def test_the_probe_predictions_match_the_engine(student, start_run):
    """An independent calculation: replay the run to its last evaluation step and ask the
    engine for its guesses along the probe line."""
    run = trained(start_run, student)
    shown = probe_predictions(run)
    assert shown["step"] == 30
    evaluator = Evaluator(run.pack.documents, {**engine_settings(run.config), "capture": False})
    evaluator.trainer.replay(29)  # step 30's evaluation uses the parameters after step 29
    seen = look(evaluator.trainer.model, evaluator.probe_tokens, 3)
    guesses = seen["topk_ids"][:, 0]
    targets = evaluator.probe_tokens[1:]
    assert shown["right"] == int((guesses == targets).sum())
    assert [p["right"] for p in shown["positions"]] == (guesses == targets).tolist()
    assert shown["mean_target_prob"] == pytest.approx(float(seen["target_probs"].mean()),
                                                      abs=1e-3)


def test_final_figures(student, start_run):
    run = trained(start_run, student)
    series = run.eval_series()
    figures = final_figures(run)
    best = min(series["val_loss"])
    assert figures["best_val"] == best
    assert figures["best_val_step"] == series["step"][series["val_loss"].index(best)]
    assert figures["last_val"] == series["val_loss"][-1]
    assert figures["gap"] == pytest.approx(series["val_loss"][-1] - run.final_loss)
    assert figures["diverged"] is False


def test_a_diverged_run_is_marked_for_clipping(client, student, three):
    Run.objects.filter(pk=three[1].pk).update(
        findings=[{"code": "diverged", "title": "Diverged", "explanation": "x",
                   "what_to_try": "y", "changes": {}}]
    )
    client.force_login(student)
    body = client.get(compare_url(*three)).content.decode()
    flags = [c["diverged"] for c in overlay_of(body)["curves"]]
    assert flags == [False, False, True, True, False, False]
    assert '<span class="flag">diverged</span>' in body


@pytest.mark.parametrize(
    "query, message",
    [
        ("", "Pick 2 to 6 different runs to compare."),
        ("run={a}", "Pick 2 to 6 different runs to compare (you picked 1)."),
        ("run={a}&run={a}", "Pick 2 to 6 different runs to compare (you picked 1)."),
        ("run={a}&run=x", "“x” is not a run number."),
        ("run=1&run=2&run=3&run=4&run=5&run=6&run=7", "(you picked 7)"),
    ],
)
def test_a_bad_pick_is_a_400_that_says_why(client, student, start_run, query, message):
    a = start_run(student)
    client.force_login(student)
    response = client.get(f"{reverse('runs:compare')}?{query.format(a=a.pk)}")
    assert response.status_code == 400
    assert message in response.content.decode() and 'role="alert"' in response.content.decode()


def test_who_may_compare_what(client, student, classmate, instructor, outsider, make_user,
                              start_run, classroom):
    mine, other = start_run(student), start_run(student)
    theirs = start_run(classmate)
    url = compare_url(mine, other)
    client.force_login(student)
    assert client.get(url).status_code == 200
    response = client.get(compare_url(mine, theirs))  # not shared with the classroom
    assert response.status_code == 404
    assert f"There is no run {theirs.pk} that you may see." in response.content.decode()
    client.force_login(instructor)  # teaches both students
    assert client.get(compare_url(mine, other, theirs)).status_code == 200
    for person in (classmate, outsider, make_user("other-teacher", instructor=True)):
        client.force_login(person)
        assert client.get(url).status_code == 404
    Run.objects.filter(pk__in=[mine.pk, other.pk]).update(classroom=classroom)
    client.force_login(classmate)  # shared with the classroom now
    assert client.get(compare_url(mine, other, theirs)).status_code == 200
    client.logout()
    response = client.get(url)
    assert response.status_code == 302 and "login" in response.url


def test_the_old_classroom_address_redirects(client, instructor, classroom, student, start_run):
    a, b = start_run(student), start_run(student)
    client.force_login(instructor)
    response = client.get(f"/classrooms/compare/?a={a.pk}&b={b.pk}&classroom={classroom.pk}")
    assert response.status_code == 302
    assert response.url == compare_url(a, b, classroom=classroom.pk)
    body = client.get(response.url).content.decode()
    assert "back to the panel of Period 3" in body
    response = client.get(f"/classrooms/compare/?run={b.pk}&run={a.pk}")
    assert response.url == compare_url(b, a)


def test_my_runs_has_a_compare_box_per_run(client, student, start_run):
    runs = [start_run(student), start_run(student)]
    client.force_login(student)
    body = client.get(reverse("runs:list")).content.decode()
    form = '<form id="compare-form" class="compare-form" method="get" action="/runs/compare/"'
    assert form in body
    for run in runs:
        assert f'id="compare-run-{run.pk}" name="run" value="{run.pk}" form="compare-form"' in body
