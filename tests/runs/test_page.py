"""The live run page /runs/<id>/ and its fragments (runs/page.py, templates/runs/detail.html):
who may see them, that the first load and the socket's render_live give the same partials,
scrubbing, token selection, and a finished run explorable without the socket."""

import base64
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from django.urls import reverse

from runs import page
from runs.models import TERMINAL_KINDS, Kind, Run
from runs.training import train_run

pytestmark = pytest.mark.services  # its queries run on PostgreSQL too

# The partials the socket swaps by id (the series delta has no counterpart on first load).
LIVE_IDS = [
    "run-status",
    "run-series",
    "run-evals",
    "run-learning",
    "run-snapshots-note",
    "run-diagnostics",
    "run-scrubber",
    "run-snapshot-view",
    "run-samples",
]
LINE = {"view": "line"}  # the step's own training line (the page opens on the probe line)


@pytest.fixture
def finished_run(student, classroom, start_run):
    """A tiny run by `student`, trained to completion; not shared. Snapshots and samples
    at steps 1 (snapshot only), 10, 20 and 30."""
    run = start_run(student, snapshot_interval=10)
    train_run(run.pk, "test")
    return Run.objects.get(pk=run.pk)


@pytest.fixture
def shared_run(student, classroom, start_run):
    run = start_run(student, classroom=classroom, snapshot_interval=10)
    train_run(run.pk, "test")
    return Run.objects.get(pk=run.pk)


def urls_of(run):
    step = run.snapshot_steps()[-1]
    return [
        reverse("runs:detail", args=[run.pk]),
        reverse("runs:snapshot", args=[run.pk]) + "?i=0",
        reverse("runs:token", args=[run.pk, step, 2]),
    ]


# --- who may see it ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, shared, status",
    [
        ("owner", False, 200),
        ("instructor", False, 200),  # teaches the owner's classroom
        ("classmate", True, 200),
        ("classmate", False, 404),
        ("outsider", True, 404),
        ("outsider", False, 404),
    ],
)
def test_page_and_fragments_by_person(client, request, who, shared, status):
    run = request.getfixturevalue("shared_run" if shared else "finished_run")
    person = {"owner": "student"}.get(who, who)
    client.force_login(request.getfixturevalue(person))
    for url in urls_of(run):
        assert client.get(url).status_code == status, url


def test_anonymous_is_sent_to_log_in(client, finished_run):
    for url in urls_of(finished_run):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_unknown_run_is_404(client, student):
    client.force_login(student)
    assert client.get(reverse("runs:detail", args=[999_999])).status_code == 404


def test_token_of_a_step_without_snapshot_is_404(client, student, finished_run):
    client.force_login(student)
    missing = next(s for s in range(1, 100) if s not in finished_run.snapshot_steps())
    url = reverse("runs:token", args=[finished_run.pk, missing, 0])
    assert client.get(url, LINE).status_code == 404
    assert client.get(url).status_code == 200  # the probe line is stored at every step here
    beyond = reverse("runs:token", args=[finished_run.pk, finished_run.num_steps + 1, 0])
    assert client.get(beyond).status_code == 404


# --- the page ------------------------------------------------------------------------------


def test_finished_run_renders_fully_without_the_socket(client, student, finished_run):
    client.force_login(student)
    html = client.get(reverse("runs:detail", args=[finished_run.pk])).content.decode()
    assert "ws-connect" not in html  # nothing left to push
    assert 'data-status="completed"' in html
    assert f'<strong id="run-current-step">{finished_run.num_steps}</strong>' in html
    steps = page_series(html)["step"]
    assert steps == list(range(1, finished_run.num_steps + 1))
    assert f'data-vocab-size="{finished_run.vocab_size}"' in html  # for the baseline ln V
    assert f'data-baseline="{finished_run.baseline_loss:.4f}"' in html
    assert html.count('class="head-thumb"') == 2  # 1 layer x 2 heads
    assert html.count('class="token ') == len(finished_run.started_data()["probe"]["tokens"])
    assert "follow the template" in html
    assert "Cancel run" not in html
    assert "No snapshot yet" not in html and "No samples yet" not in html


def test_queued_run_shows_empty_states_and_connects(client, student, start_run):
    run = start_run(student)
    client.force_login(student)
    html = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert f'ws-connect="/ws/runs/{run.pk}/"' in html and 'hx-ext="ws"' in html
    assert 'data-status="queued"' in html
    assert "number 1 in the queue" in html
    assert "No snapshot yet" in html and "No samples yet" in html
    assert "Cancel run" in html
    assert reverse("runs:cancel", args=[run.pk]) in html


def test_cancel_button_only_for_who_may_cancel(
    client, classmate, instructor, classroom, student, start_run
):
    run = start_run(student, classroom=classroom)
    for person, shown in ((instructor, True), (classmate, False)):
        client.force_login(person)
        html = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
        assert ("Cancel run" in html) is shown


def test_failed_run_shows_its_error(client, student, start_run):
    run = start_run(student)
    run.finish(Kind.FAILED, error="the worker ran out of memory", data={"step": 0})
    client.force_login(student)
    html = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert 'data-status="failed"' in html
    assert "the worker ran out of memory" in html


def test_whitespace_and_bos_are_visible(client, student, start_run, pack):
    pack.text = "a b\nb a\n"
    pack.save()
    run = start_run(student, num_steps=3)
    train_run(run.pk, "test")
    client.force_login(student)
    html = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert '<span class="token-in bos">BOS</span>' in html
    assert '<span class="token-in">␣</span>' in html


# --- first load and socket render the same partials --------------------------------------


def test_partials_are_the_same_on_first_load_and_over_the_socket(client, student, finished_run):
    client.force_login(student)
    first_load = client.get(reverse("runs:detail", args=[finished_run.pk])).content.decode()
    pushed = page.render_live(finished_run)
    pushed_elements = top_level_elements(pushed)
    assert [element_id(e) for e in pushed_elements] == LIVE_IDS
    for element in pushed_elements:
        assert 'hx-swap-oob="true"' in element.split(">", 1)[0]
        on_page = element_html(first_load, element_id(element))
        assert normalized(element) == normalized(on_page), element_id(element)


@pytest.fixture
def running_run(student, finished_run, start_run):
    """A run caught mid-training: the events of `finished_run` up to `until` stored again
    through Run.append_events, as the trainer writes them. Returns (run, seq_of_step)."""

    def replay(until, evals=True):
        run = start_run(student)
        assert run.claim("test")
        events = finished_run.events.filter(seq__gt=1).exclude(kind__in=TERMINAL_KINDS)
        if not evals:  # a run from before probes and validation
            events = events.exclude(kind=Kind.EVAL)
        kept = [(e.kind, e.step, e.data) for e in events.order_by("seq") if e.step <= until]
        run.append_events(kept, current_step=until, vocab=finished_run.vocab)
        seqs = dict(run.events.filter(kind=Kind.STEP).values_list("step", "seq"))
        return Run.objects.select_related("pack", "upload").get(pk=run.pk), seqs

    return replay


def test_a_push_after_seq_sends_only_what_changed(running_run):
    run, seq_of_step = running_run(until=25, evals=False)
    assert run.snapshot_steps() == [1, 10, 20]

    nothing_new = page.render_live(run, since=run.last_seq)
    assert ids_of(nothing_new) == ["run-status"]

    steps_only = page.render_live(run, since=seq_of_step[22])
    assert ids_of(steps_only) == ["run-status", "run-series-delta"]
    assert page_series(steps_only, "run-series-delta")["step"] == [23, 24, 25]
    assert (
        'data-status="running"' in steps_only and '<strong id="run-current-step">25<' in steps_only
    )

    # a snapshot and a batch of samples at step 20: the new samples go on top of the list
    with_snapshot_and_samples = page.render_live(run, since=seq_of_step[19])
    assert ids_of(with_snapshot_and_samples) == [
        "run-status",
        "run-diagnostics",  # checked again at each snapshot
        "run-series-delta",
        "run-scrubber",
        "run-snapshot-view",
        "run-samples-headline",
        "afterbegin:#run-samples-list",
    ]
    assert 'data-step="20"' in with_snapshot_and_samples
    new_samples = top_level_elements(with_snapshot_and_samples)[-1]
    assert new_samples.count("<li") == 3 and new_samples.count("step 20<") == 3

    # the first batch of samples replaces the empty state with the whole panel
    first_samples = page.render_live(run, since=seq_of_step[9])
    assert "run-samples" in ids_of(first_samples)


def test_the_push_at_a_cancel_ends_following_live(running_run):
    run, seq_of_step = running_run(until=25, evals=False)
    live = page.render_live(run, since=seq_of_step[19])
    assert "Following live:" in live
    assert "they catch up with training about once a second" in live  # why they trail
    run.request_cancel()
    run.finish(Kind.CANCELED, data={"step": 25})
    run = Run.objects.select_related("pack", "upload").get(pk=run.pk)
    pushed = page.render_live(run, since=seq_of_step[25])  # only the terminal event is new
    assert "run-snapshot-view" in ids_of(pushed)
    view = re.sub(r"\s+", " ", pushed)
    assert "Following live" not in view and "live-dot" not in view
    assert "live-panels-pace" not in view
    assert "Last snapshot: step <strong>20</strong>" in view
    assert "the run stopped at step 25, before its next snapshot" in view


def test_a_builtin_packs_samples_also_say_how_many_are_correct(client, student, start_run):
    from packs_app.models import Pack

    Pack.objects.load_builtins()
    run = start_run(student)
    run.pack = Pack.objects.get(slug="arithmetic")
    run.save()
    batch = {"texts": ["1+2=3", "1+2=4", "1+"], "follows": [True, True, False]}
    run.append_events([(Kind.SAMPLES, 10, batch)], current_step=10)
    context = page.samples_context(run)
    assert (context["follow_count"], context["sample_count"]) == (2, 3)
    assert context["correct_count"] == 1  # 1+2=4 has the form, not the meaning
    client.force_login(student)
    html = re.sub(r"\s+", " ", client.get(reverse("runs:detail", args=[run.pk])).content.decode())
    assert "<strong>2 of 3</strong> follow the template · <strong>1</strong>" in html
    # each sample says whether it is right: the wrong sum is not ticked, and says why
    verdicts = {s["text"]: s["not_right"] for s in context["samples"]}
    assert verdicts == {"1+2=3": "", "1+2=4": f"1+2 is {1 + 2}, not 4", "1+": ""}
    wrong = re.search(r'<li class="not-right">(.*?)</li>', html).group(1)
    assert "1+2=4" in wrong and "✓" not in wrong and "right shape, not right: 1+2 is 3" in wrong
    assert html.count('<li class="follows">') == 1  # 1+2=3 alone is ticked
    # a custom pack has no such check
    run.pack = Pack.objects.exclude(builtin=True).first()
    run.save()
    assert page.samples_context(run)["correct_count"] is None


def test_a_push_between_snapshots_keeps_the_attention_and_adds_only_new_evaluations(
    client, student, running_run
):
    """At an evaluation between snapshots the probe line's predictions change, its attention
    (stored at snapshot steps only) does not: the push sends the panels without the maps
    (the page keeps its own, hx-preserve) and only the new evaluation points."""
    run, seq_of_step = running_run(until=25)
    assert run.snapshot_steps() == [1, 10, 20]
    new_evals = [step for step in run.eval_steps() if 22 < step <= 25]
    assert new_evals == [23, 24, 25]  # this tiny run evaluates at every step

    pushed = page.render_live(run, since=seq_of_step[22])
    assert ids_of(pushed) == [
        "run-status",
        "run-evals-delta",
        "run-learning",
        "run-snapshots-note",
        "run-series-delta",
        "run-scrubber",
        "run-snapshot-view",
    ]
    evals = page_data(pushed, "run-evals-delta", "evals")
    heatmap = page_data(pushed, "run-evals-delta", "heatmap")
    stored = {e.step: e.data for e in run.events.filter(kind=Kind.EVAL, step__in=new_evals)}
    assert evals["step"] == heatmap["steps"] == new_evals
    assert heatmap["losses"] == [stored[step]["probe"]["losses"] for step in new_evals]
    # (to 4 significant digits, as the whole series on the page)
    assert evals["val_loss"] == pytest.approx([stored[s]["val_loss"] for s in new_evals], 1e-3)

    # the probe line at step 25; its maps are step 20's, which the page already shows
    view = element_html(pushed, "run-snapshot-view")
    kept_id = f"run-attention-{run.pk}-probe-20"
    assert 'data-step="25"' in view and "data-attn=" not in view
    grid = re.search(rf'<div id="{kept_id}" class="attention-grid"[^>]*>', view).group(0)
    assert 'hx-preserve="true"' in grid
    assert 'hx-trigger="load"' in grid  # if the page has other maps, it fetches the panels
    client.force_login(student)
    first_load = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    on_page = element_html(first_load, kept_id)
    assert "hx-preserve" not in on_page and on_page.count("data-attn=") == len(
        page.snapshot_context(run)["heads"]
    ) > 0

    # a new snapshot sends its maps (under a new id), and the evaluation points since
    with_snapshot = page.render_live(run, since=seq_of_step[19])
    assert "hx-preserve" not in with_snapshot and "data-attn=" in with_snapshot
    assert page_data(with_snapshot, "run-evals-delta", "evals")["step"] == [20, 21, 22, 23, 24, 25]


def test_a_push_in_two_parts_steps_and_heavy_panels(running_run):
    """render_push's steps part (status, losses, samples) and panels part (what a snapshot
    or an evaluation changes), each from its own seq: a run's audience sends the steps with
    every push and the panels apart, later, with everything since they were last sent."""
    run, seq_of_step = running_run(until=25)
    assert run.snapshot_steps() == [1, 10, 20]
    run.last_seq = seq_of_step[23]
    steps_part, news = page.render_push(run, seq_of_step[22], panels=False)
    assert news  # an evaluation at step 23
    assert ids_of(steps_part) == ["run-status", "run-series-delta"]
    assert page_series(steps_part, "run-series-delta")["step"] == [23]

    run.last_seq = seq_of_step[25]  # later: the panels, from where they were last sent
    panels_part, news = page.render_push(run, seq_of_step[22], steps=False)
    assert news
    assert ids_of(panels_part) == [
        "run-evals-delta", "run-learning", "run-snapshots-note", "run-scrubber",
        "run-snapshot-view",
    ]
    assert page_data(panels_part, "run-evals-delta", "evals")["step"] == [23, 24, 25]
    assert 'data-step="25"' in element_html(panels_part, "run-snapshot-view")
    assert "data-attn=" not in panels_part  # no snapshot since: the page keeps its maps

    # a snapshot (step 20) with samples: the samples go with the steps, the maps apart
    run.last_seq = seq_of_step[21]
    steps_part, news = page.render_push(run, seq_of_step[19], panels=False)
    assert news and "data-attn=" not in steps_part
    assert "run-samples-headline" in ids_of(steps_part)
    assert not {"run-snapshot-view", "run-diagnostics", "run-evals-delta"} & set(
        ids_of(steps_part)
    )
    run.last_seq = seq_of_step[25]
    panels_part, _ = page.render_push(run, seq_of_step[19], steps=False)
    assert "data-attn=" in panels_part and "run-diagnostics" in ids_of(panels_part)
    assert page_data(panels_part, "run-evals-delta", "evals")["step"] == [20, 21, 22, 23, 24, 25]
    assert "run-status" not in ids_of(panels_part) and "run-samples" not in panels_part

    # nothing new: no news for the panels
    assert page.render_push(run, run.last_seq, panels=False)[1] is False


def test_the_panels_part_after_the_runs_end(running_run):
    run, seq_of_step = running_run(until=25)
    run.finish(Kind.COMPLETED, final_loss=1.0, data={"step": 25})
    run = Run.objects.select_related("pack", "upload").get(pk=run.pk)
    steps_part, news = page.render_push(run, seq_of_step[25], panels=False)
    assert news and 'data-status="completed"' in steps_part
    panels_part, _ = page.render_push(run, seq_of_step[22], steps=False)
    assert page_data(panels_part, "run-evals-delta", "evals")["step"] == [23, 24, 25]
    assert "Following live" not in re.sub(r"\s+", " ", panels_part)
    assert {"run-snapshot-view", "run-learning", "run-diagnostics"} <= set(ids_of(panels_part))


def test_a_push_without_new_evaluations_sends_no_evaluation_data(running_run):
    run, seq_of_step = running_run(until=25)
    pushed = page.render_live(run, since=run.last_seq)
    assert ids_of(pushed) == ["run-status"]


def test_a_push_stops_at_the_runs_last_seq(running_run):
    """Events stored after the run row was read wait for the next push (which starts at
    that row's last_seq), so none is sent twice or skipped."""
    run, seq_of_step = running_run(until=25)
    run.last_seq = seq_of_step[23]
    pushed = page.render_live(run, since=seq_of_step[22])
    assert page_series(pushed, "run-series-delta")["step"] == [23]


def test_a_live_push_is_cheap(running_run, django_assert_max_num_queries):
    run, seq_of_step = running_run(until=25, evals=False)
    with django_assert_max_num_queries(2):  # what changed, and the new steps
        page.render_live(run, since=seq_of_step[22])


# --- scrubbing and token selection ---------------------------------------------------------


def test_scrubbing_to_an_earlier_step_shows_its_tokens(client, student, finished_run):
    client.force_login(student)
    first = finished_run.snapshot_steps()[0]
    response = client.get(reverse("runs:snapshot", args=[finished_run.pk]) + "?i=0&view=line")
    html = response.content.decode()
    assert f'data-step="{first}"' in html and 'data-following="false"' in html
    assert "Pinned to step" in html
    assert strip_chars(html) == chars_of(finished_run, first)
    assert response["HX-Replace-Url"] == f"/runs/{finished_run.pk}/?view=line&step={first}"
    assert 'id="run-scrubber"' not in html  # the range input being dragged stays put


def test_page_with_step_in_the_address_is_pinned(client, student, finished_run):
    client.force_login(student)
    steps = finished_run.snapshot_steps()
    html = client.get(reverse("runs:detail", args=[finished_run.pk]), {"step": steps[1], **LINE})
    html = html.content.decode()
    assert f'data-step="{steps[1]}"' in html and 'data-following="false"' in html
    assert 'name="i" min="0"' in html and 'value="1"' in html
    assert strip_chars(html) == chars_of(finished_run, steps[1])


def test_an_unstored_step_shows_the_snapshot_before_it(client, student, finished_run):
    client.force_login(student)
    steps = finished_run.snapshot_steps()
    between = steps[1] + 1
    assert between not in steps
    html = client.get(reverse("runs:snapshot", args=[finished_run.pk]), {"step": between, **LINE})
    assert f'data-step="{steps[1]}"' in html.content.decode()


def test_follow_live_returns_to_the_newest_with_the_scrubber(client, student, finished_run):
    client.force_login(student)
    response = client.get(reverse("runs:snapshot", args=[finished_run.pk]), {"pos": 3, **LINE})
    html = response.content.decode()
    newest = finished_run.snapshot_steps()[-1]
    assert f'data-step="{newest}"' in html and 'data-following="true"' in html
    assert 'id="run-scrubber"' in html and 'hx-swap-oob="true"' in html
    assert 'id="tok-3" class="token' in html and 'data-pos="3"' in html
    assert response["HX-Replace-Url"] == f"/runs/{finished_run.pk}/?view=line&pos=3"


def test_selecting_a_token_shows_its_top_k(client, student, finished_run):
    client.force_login(student)
    step = finished_run.snapshot_steps()[-1]
    snapshot = finished_run.snapshot(step)
    response = client.get(reverse("runs:token", args=[finished_run.pk, step, 2]), LINE)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="run-tokens"')
    assert re.search(r'id="tok-2"[^>]*aria-pressed="true"', html)
    assert html.count('aria-pressed="true"') == 1
    bars = html.split('<ul class="bars">')[1].split("</ul>")[0]
    target_in_top_k = snapshot["targets"][2] in snapshot["topk_ids"][2]
    assert bars.count("<li") == len(snapshot["topk_ids"][2]) + (0 if target_in_top_k else 1)
    assert bars.count('class="target') == 1
    assert f'href="/runs/{finished_run.pk}/steps/{step}/tokens/2/ops/"' in html
    assert response["HX-Replace-Url"] == f"/runs/{finished_run.pk}/?view=line&step={step}&pos=2"
    live = client.get(reverse("runs:token", args=[finished_run.pk, step, 2]), {"live": 1, **LINE})
    assert live["HX-Replace-Url"] == f"/runs/{finished_run.pk}/?view=line&pos=2"


# --- the context builders ------------------------------------------------------------------


def test_attention_is_sent_as_lower_triangle_bytes():
    weights = np.tril(np.random.default_rng(0).random((2, 3, 4, 4)))
    weights /= weights.sum(-1, keepdims=True)
    heads = page.attention_heads(weights.tolist())
    assert [(h["layer"], h["head"]) for h in heads] == [(i, j) for i in range(2) for j in range(3)]
    decoded = np.frombuffer(base64.b64decode(heads[4]["data"]), np.uint8) / 255
    rows, cols = np.tril_indices(4)
    assert np.allclose(decoded, weights[1, 1][rows, cols], atol=1 / 255)


def test_series_json_is_compact():
    series = {
        "step": [1, 2],
        "loss": [3.2958368492126465, 3.1],
        "lr": [0.01, 0.00995],
        "grad_norms": {"total": [1.234567, 2.0]},
        "update_norms": {"total": [0.000123456, 0.0]},
    }
    assert page.series_json(series) == (
        '{"step":[1,2],"loss":[3.296,3.1],"lr":[0.01,0.00995],'
        '"grad_norms":{"total":[1.23,2.0]},"update_norms":{"total":[0.000123,0.0]}}'
    )


def test_format_duration():
    assert [page.format_duration(s) for s in (None, 0.64, 5.2, 12.7, 65, 3725)] == [
        "–",
        "0.6 s",
        "5.2 s",
        "12 s",
        "1:05",
        "1:02:05",
    ]


# --- helpers -------------------------------------------------------------------------------


VOID = {"input", "br", "img", "hr", "meta", "link", "source", "col", "wbr", "area"}


class Spans(HTMLParser):
    """Offsets of every element: [(start, end, id)] in document order."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.lines = [0]
        for line in html.splitlines(keepends=True):
            self.lines.append(self.lines[-1] + len(line))
        self.open, self.spans, self.depth_zero = [], [], []
        self.feed(html)

    def position(self):
        line, col = self.getpos()
        return self.lines[line - 1] + col

    def handle_starttag(self, tag, attrs):
        start = self.position()
        if tag in VOID:
            return
        self.open.append((tag, start, dict(attrs).get("id")))

    def handle_endtag(self, tag):
        while self.open:
            open_tag, start, id_ = self.open.pop()
            if open_tag == tag:
                end = self.position() + len(f"</{tag}>")
                self.spans.append((start, end, id_, len(self.open)))
                return


def top_level_elements(html):
    spans = sorted(s for s in Spans(html).spans if s[3] == 0)
    return [html[start:end] for start, end, _, _ in spans]


def element_html(html, id_):
    (start, end), *_ = [(s, e) for s, e, i, _ in Spans(html).spans if i == id_]
    return html[start:end]


def ids_of(html):
    return [element_id(element) for element in top_level_elements(html)]


def element_id(element):
    """The element's id, or where it goes ("afterbegin:#list") when it has none."""
    start_tag = element.split(">", 1)[0]
    found = re.search(r'\bid="([^"]+)"', start_tag) or re.search(
        r'hx-swap-oob="([^"]+)"', start_tag
    )
    return found.group(1)


def normalized(element):
    text = element.replace('hx-swap-oob="true"', "")
    return re.sub(r"\s+>", ">", re.sub(r"\s+", " ", text)).strip()


def page_series(html, id_="run-series"):
    import html as html_lib
    import json

    attr = re.search(rf'id="{id_}"[^>]*data-series="([^"]*)"', html).group(1)
    return json.loads(html_lib.unescape(attr))


def page_data(html, id_, name):
    import html as html_lib
    import json

    attr = re.search(rf'id="{id_}"[^>]*data-{name}="([^"]*)"', html).group(1)
    return json.loads(html_lib.unescape(attr))


def strip_chars(html):
    return re.findall(r'<span class="token-in(?: bos)?">([^<]*)</span>', html)


def chars_of(run, step):
    labels = page.token_labels(run)
    return [labels[i] for i in run.snapshot(step)["tokens"]]


def test_a_lost_workers_run_counts_its_time_to_the_last_heartbeat_and_says_what_now(
    client, student, start_run
):
    from datetime import timedelta

    from django.utils import timezone

    from runs.reaper import WORKER_LOST

    run = start_run(student)
    began = timezone.now() - timedelta(seconds=60)
    Run.objects.filter(pk=run.pk).update(
        status=Run.Status.RUNNING, started_at=began, current_step=40,
        heartbeat_at=began + timedelta(seconds=4),
    )
    client.force_login(student)
    running = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    stall = re.search(r'run-stall" hidden data-heartbeat="(\d+)" data-now="(\d+)"', running)
    assert stall and int(stall.group(2)) - int(stall.group(1)) >= 55  # quiet for a minute
    run.refresh_from_db()
    run.finish(Kind.FAILED, error=WORKER_LOST)  # the reaper's verdict, a minute later
    run.refresh_from_db()
    assert run.elapsed_seconds() == pytest.approx(4, abs=0.01)  # not the minute it waited
    html = re.sub(r"\s+", " ", client.get(reverse("runs:detail", args=[run.pk])).content.decode())
    assert "worker lost: the process training this run stopped at step 40" in html
    assert f'href="/runs/new/?pack={run.source_ref}"' in html
    assert "run-stall" not in html
