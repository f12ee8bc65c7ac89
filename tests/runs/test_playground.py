"""runs/playground.py: the prompt's reading, generation, "you vs the model", bad input, and
who may use them."""

import base64
import html
import io
import re

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engine.evaluation import split_documents
from runs.evaluation import held_out_of
from runs.models import PlaygroundScore, Run
from runs.playground_game import ROUND_LENGTH, held_out_lines, round_items
from runs.playground_model import CACHE, model_for, stored_steps
from runs.training import train_run
from tests.runs.conftest import PACK_TEXT
from tests.runs.test_playground_model import reference_forward

TWO_LAYERS = {"n_layer": 2, "num_steps": 12, "snapshot_interval": 4}
GAME_ROUND = 5


def trained(start_run, owner):
    """A finished 2-layer run of `owner`, trained through the real code path."""
    run = start_run(owner, **TWO_LAYERS)
    assert train_run(run.pk, "test-worker")
    CACHE.clear()
    return Run.objects.get(pk=run.pk)


@pytest.fixture
def run(student, start_run, classroom):
    """A finished 2-layer run of `student`, not shared with the classroom."""
    return trained(start_run, student)


def login(client, user):
    client.logout()
    client.force_login(user)
    return client


def url(name, run, **query):
    base = reverse(f"runs:{name}", args=[run.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def get(client, name, run, **query):
    return client.get(reverse(f"runs:{name}", args=[run.pk]), query)


def text_of(response):
    """What the response says, without its tags."""
    words = re.sub(r"<[^>]+>", "", response.content.decode())
    return html.unescape(re.sub(r"\s+", " ", words))


def reference(run, step, text):
    """Probabilities and attention of BOS + `text` by the independent forward pass."""
    ids = [len(run.vocab), *(run.vocab.index(ch) for ch in text)]
    return ids, *reference_forward(run.params_at(step), run.config["n_head"], ids)


# --- the reading ---------------------------------------------------------------------------


@pytest.mark.services  # PostgreSQL too
def test_the_reading_shows_the_models_probabilities_for_the_typed_text(client, student, run):
    step, text = stored_steps(run)[-1], "3+4=7"
    response = get(login(client, student), "playground_predict", run, step=step, text=text)
    assert response.status_code == 200
    ids, probs, attn = reference(run, step, text)
    page = response.content.decode()
    # each character: the probability the model gave it after what came before
    shown = [float(p) for p in re.findall(r"<small>([\d.]+)</small>", page)]
    expected = [100 * probs[t, ids[t + 1]] for t in range(len(text))]
    assert shown == pytest.approx(expected, abs=0.051)
    # the next character's top 10, likeliest first
    bars = re.findall(r'bar-label mono[^"]*">([^<]+)</span>.*?bar-value">([\d.]+)%', page, re.S)
    labels = [*run.vocab, "BOS"]
    order = np.argsort(-probs[-1], kind="stable")[:10]
    assert [b[0] for b in bars] == [labels[i] for i in order]
    assert [float(b[1]) for b in bars] == pytest.approx(100 * probs[-1][order], abs=0.051)
    # attention of every layer and head over the text (quantized to 1/255)
    maps = re.findall(r'data-attn="([^"]+)"', page)
    assert len(maps) == run.config["n_layer"] * run.config["n_head"]
    rows, cols = np.tril_indices(len(ids))
    first = np.frombuffer(base64.b64decode(maps[0]), np.uint8) / 255
    np.testing.assert_allclose(first, attn[0, 0][rows, cols], atol=1 / 255)
    mean_loss = np.mean([-np.log(probs[t, ids[t + 1]]) for t in range(len(text))])
    assert f"<strong>{mean_loss:.2f}</strong>" in page


def test_show_every_character_lists_the_whole_distribution(client, student, run):
    response = get(login(client, student), "playground_predict", run, text="1", all="1")
    assert response.status_code == 200
    assert response.content.decode().count('class="bar-value"') == run.vocab_size


def test_an_empty_prompt_shows_the_first_character_the_model_expects(client, student, run):
    response = get(login(client, student), "playground_predict", run, text="")
    assert response.status_code == 200
    page = text_of(response)
    assert "the first character" in page and "Type something" in page


def test_the_whole_page_renders_the_same_reading(client, student, run):
    response = get(login(client, student), "playground", run, text="1+1=2")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="pg-reading"' in page and 'value="1+1=2"' in page
    assert page.count("<small>") == 5
    assert 'id="pg-game"' in page and "Character 1 of" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"text": "1+x=Z"}, "“Z”, “x” are not in this run's text"),
        ({"text": "1\n2"}, "new line (↵) is not in this run's text"),
        ({"text": "1" * 16}, "That is 16 characters; this model reads at most 15"),
        ({"text": "1" * 5000}, "That is 5000 characters; this model reads at most 15"),
        ({"text": "1", "step": 5}, "No parameters are stored for step 5"),
        ({"text": "1", "step": "soon"}, "The step must be a whole number"),
    ],
)
def test_bad_prompts_are_refused_inline_with_what_to_do(client, student, run, query, message):
    login(client, student)
    for name in ("playground_predict", "playground"):
        response = get(client, name, run, **query)
        assert response.status_code == 400, name
        assert message in text_of(response), name
    assert "It knows: + 0 1 2 3 4 5 6 7 8 9 =" in text_of(
        get(client, "playground_predict", run, text="x")
    )


@pytest.mark.services  # PostgreSQL too
def test_typing_stores_nothing(client, student, run):
    login(client, student)
    get(client, "playground_predict", run, text="1")  # warm the model cache
    with CaptureQueriesContext(connection) as queries:
        for text in ("1", "1+", "1+2", "1+x"):
            get(client, "playground_predict", run, text=text)
        get(client, "playground_generate", run, text="1+", mode="end")
        get(client, "playground_generate", run, text="1+", mode="next", gen="2")
    writes = [q["sql"] for q in queries if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"])]
    assert writes == []


# --- generating ----------------------------------------------------------------------------


def generated(response):
    return html.unescape(re.search(r'name="gen" value="([^"]*)"', response.content.decode())[1])


@pytest.mark.services  # PostgreSQL too
def test_next_character_builds_the_same_text_as_generating_to_the_end(client, student, run):
    login(client, student)
    settings = {"text": "2+", "temperature": 1.2, "top_k": 0, "seed": 9}
    whole = generated(get(client, "playground_generate", run, mode="end", **settings))
    assert whole == generated(get(client, "playground_generate", run, mode="end", **settings))
    gen = ""
    for _ in range(len(whole)):
        response = get(client, "playground_generate", run, mode="next", gen=gen, **settings)
        assert "it drew" in text_of(response)
        gen = generated(response)
    assert gen == whole
    others = {generated(get(client, "playground_generate", run, mode="end", **{**settings,
              "seed": seed})) for seed in range(6)}
    assert len(others) > 1


def test_next_character_shows_the_distribution_it_was_drawn_from(client, student, run):
    login(client, student)
    step = stored_steps(run)[-1]
    response = get(client, "playground_generate", run, text="4+", mode="next",
                   temperature=0.5, top_k=3, seed=2)
    page = response.content.decode()
    drawn = re.findall(r'<li class="(?:target drawn)?"><span class="bar-label mono[^"]*">([^<]+)'
                       r'</span>.*?bar-value">([\d.]+)%', page, re.S)
    ids, probs, _ = reference(run, step, "4+")
    logits = np.log(probs[-1])
    top = np.argsort(-logits)[:3]  # top-k 3: the other characters cannot be drawn
    expected = np.exp((logits[top] - logits[top].max()) / 0.5)
    expected /= expected.sum()
    labels = [*run.vocab, "BOS"]
    marked = re.search(r'<li class="target drawn"><span class="bar-label mono[^"]*">([^<]+)', page)
    assert marked and marked[1] in [labels[i] for i in top]
    # shown: those of at least 0.1% (rounded), and the one drawn
    kept = [k for k, i in enumerate(top) if expected[k] > 0.0005 or labels[i] == marked[1]]
    assert [d[0] for d in drawn] == [labels[top[k]] for k in kept]
    assert [float(d[1]) for d in drawn] == pytest.approx(100 * expected[kept], abs=0.051)


def test_new_seed_picks_another_seed_and_writes_from_the_prompt(client, student, run):
    response = get(login(client, student), "playground_generate", run, text="1", mode="reseed",
                   seed=1, gen="+2")
    page = response.content.decode()
    seed = re.search(r'id="pg-seed" name="seed" type="text" inputmode="numeric" value="(\d+)"',
                     page)
    assert seed and 'id="pg-seed-field" hx-swap-oob="true"' in page
    again = get(client, "playground_generate", run, text="1", mode="end", seed=seed[1])
    assert generated(again) == generated(response)


def test_changing_the_prompt_clears_text_generated_for_the_old_one(client, student, run):
    login(client, student)
    step = stored_steps(run)[-1]
    same = get(client, "playground_predict", run, text="1", step=step, gen_base=f"{step}:1")
    assert 'hx-swap-oob="true"' not in same.content.decode()
    other = get(client, "playground_predict", run, text="12", step=step, gen_base=f"{step}:1")
    assert 'id="pg-generation" class="pg-generation" aria-live="polite" hx-swap-oob="true"' in (
        other.content.decode()
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"temperature": 0}, "Temperature must be between 0.05 and 2."),
        ({"temperature": "hot"}, "Temperature must be a number, such as 0.8."),
        ({"top_k": 99}, "Top-k can be at most 13: the model knows 13 characters"),
        ({"seed": -1}, "The seed must be between 0 and 4,294,967,295."),
        ({"mode": "all"}, "Press Next character, Generate to the end or New seed."),
        ({"gen": "??"}, "The generated text was changed"),
        ({"text": "ab"}, "not in this run's text"),
    ],
)
def test_bad_generation_settings_are_refused_inline(client, student, run, query, message):
    response = get(login(client, student), "playground_generate", run,
                   **{"text": "1", "mode": "next", **query})
    assert response.status_code == 400
    assert message in text_of(response)


# --- you vs the model ------------------------------------------------------------------------


def play(client, run, step, answers):
    """Guess `answers` one by one in round GAME_ROUND; the last response."""
    guesses, response = "", None
    for guess in answers:
        response = client.post(
            url("playground_game", run),
            {"step": step, "round": GAME_ROUND, "guesses": guesses, "guess": guess},
        )
        assert response.status_code == 200, text_of(response)
        guesses += guess
    return response


def model_score(run, step, items):
    """The model's right top guesses on `items`, from the independent forward pass."""
    right = 0
    for item in items:
        _, probs, _ = reference(run, step, item.context)
        right += run.vocab[int(np.argmax(probs[-1]))] == item.answer if (
            np.argmax(probs[-1]) < len(run.vocab)) else 0
    return right


@pytest.mark.services  # PostgreSQL too
def test_a_round_scores_both_players_and_keeps_the_best(client, student, run):
    login(client, student)
    steps = stored_steps(run)
    step = steps[-1]
    lines, held_out = held_out_lines(run)
    items = round_items(run, GAME_ROUND, lines)
    assert len(items) == ROUND_LENGTH and held_out
    # the rounds are played on the run's validation split: lines it never trained on
    documents = PACK_TEXT.split("\n")
    assert lines == [doc for doc in held_out_of(documents, run.seed) if doc]
    trained = {documents[i] for i in split_documents(len(documents), run.seed)[0]}
    assert not set(lines) & trained
    assert all(item.context + item.answer in "\n".join(lines) for item in items)
    start = get(client, "playground_game", run, step=step, round=GAME_ROUND)
    assert "Character 1 of 20" in text_of(start)
    # a perfect round
    finished = text_of(play(client, run, step, [item.answer for item in items]))
    expected_model = model_score(run, step, items)
    assert f"you guessed 20 of 20, the model at step {step} {expected_model} of 20" in finished
    early = model_score(run, steps[0], items)
    assert f"the model at step {steps[0]} got {early}" in finished
    best = PlaygroundScore.objects.get(user=student, run=run, step=step)
    assert (best.best, best.model_score, best.out_of, best.rounds) == (20, expected_model, 20, 1)
    # a guess posted after the round is over changes nothing
    answers = "".join(item.answer for item in items)
    client.post(url("playground_game", run),
                {"step": step, "round": GAME_ROUND, "guesses": answers, "guess": "1"})
    best.refresh_from_db()
    assert best.rounds == 1
    # a worse round counts but keeps the best
    play(client, run, step, ["0"] * ROUND_LENGTH)
    best.refresh_from_db()
    assert (best.best, best.rounds) == (20, 2)
    # a rematch against the untrained start: the same round's characters, another model
    rematch = text_of(play(client, run, steps[0], [item.answer for item in items]))
    assert f"the model at step {steps[0]} {early} of 20" in rematch
    assert PlaygroundScore.objects.filter(user=student, run=run).count() == 2
    assert f"model at step {step}: you 20 of 20" in rematch


def test_a_round_in_progress_stores_nothing(client, student, run):
    login(client, student)
    play(client, run, stored_steps(run)[-1], ["1", "2", "3"])
    assert not PlaygroundScore.objects.exists()


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"guess": ""}, "Type one character"),
        ({"guess": "12"}, "Type one character"),
        ({"guess": "x"}, "“x” is not in this run's text"),
        ({"guess": "1", "round": "r"}, "That round does not exist here"),
        ({"guess": "1", "step": 5}, "That round does not exist here"),
        ({"guess": "1", "guesses": "1x"}, "That round does not exist here"),
    ],
)
def test_bad_guesses_are_refused_and_not_counted(client, student, run, post, message):
    login(client, student)
    data = {"step": stored_steps(run)[-1], "round": GAME_ROUND, "guesses": "", **post}
    response = client.post(url("playground_game", run), data)
    assert response.status_code == 400
    assert message in text_of(response)
    assert "of 0 so far" in text_of(response)


# --- who may use it --------------------------------------------------------------------------

ROUTES = {
    "page": ("get", "playground", {"text": "1"}),
    "predict": ("get", "playground_predict", {"text": "1"}),
    "generate": ("get", "playground_generate", {"text": "1", "mode": "next"}),
    "round": ("get", "playground_game", {"step": 12, "round": 1}),
    "guess": ("post", "playground_game", {"step": 12, "round": 1, "guess": "1"}),
}


def call(client, run, route):
    method, name, data = ROUTES[route]
    return getattr(client, method)(reverse(f"runs:{name}", args=[run.pk]), data)


@pytest.mark.parametrize("route", ROUTES)
def test_who_may_use_the_playground(client, run, route, student, classmate, instructor, outsider):
    expected = {student: 200, classmate: 404, instructor: 200, outsider: 404}
    for user, status in expected.items():
        login(client, user)
        assert call(client, run, route).status_code == status, user.username
    client.logout()
    response = call(client, run, route)
    assert response.status_code == 302 and reverse("login") in response["Location"]
    assert not PlaygroundScore.objects.exists()


@pytest.mark.parametrize("route", ROUTES)
def test_a_run_shared_with_the_classroom_is_open_to_classmates(
    client, run, classroom, route, classmate, outsider
):
    Run.objects.filter(pk=run.pk).update(classroom=classroom)
    assert call(login(client, classmate), run, route).status_code == 200
    assert call(login(client, outsider), run, route).status_code == 404


def test_a_run_with_nothing_stored_yet_says_so(client, student, start_run):
    run = start_run(student)
    response = get(login(client, student), "playground", run)
    assert response.status_code == 200
    assert "Nothing to play with yet" in text_of(response)
    assert get(client, "playground_predict", run, text="1").status_code == 400
    assert model_for(run, 1) is None


def test_bench_playground_prints_times_and_fragment_size_last(db):
    out = io.StringIO()
    call_command("bench_playground", repeat=2, stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    match = re.fullmatch(r"p50_ms=([\d.]+) p95_ms=([\d.]+) html_kb=([\d.]+)", last)
    assert match, last
    assert float(match.group(3)) <= 60  # the size is deterministic; time depends on the machine
    assert not Run.objects.exists()  # the throwaway run is rolled back
