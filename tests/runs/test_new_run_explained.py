"""/runs/new/ explains itself: a sentence per setting from packs_app.setting_words, a
glossary page, a pack change that keeps the student's edits where the pack has no say and
names what it changed, and "run again with changes" (runs/rerun.py) prefilling it."""

import re

from django.urls import reverse
from django.utils.html import escape

from packs_app.models import Pack
from packs_app.setting_words import SETTINGS
from packs_app.settings_table import SETTING_WORDS
from runs.config import CONFIG_FIELDS
from runs.forms import LABELS
from runs.policy import CONFIG_LABELS
from runs.rerun import rerun_url
from runs.training import train_run
from tests.runs.conftest import TINY

URL = reverse("runs:new")


def test_one_source_of_words_for_every_setting():
    assert set(SETTINGS) == set(CONFIG_FIELDS)
    for name, words in SETTINGS.items():
        assert LABELS[name] == words.label and CONFIG_LABELS[name] == words.short
        assert SETTING_WORDS[name] == (words.title, words.means)
        assert words.means.endswith(".") and words.change.endswith(".")


def test_every_field_says_what_it_means_and_links_the_glossary(client, student, pack):
    client.force_login(student)
    html = client.get(URL, {"pack": pack.slug}).content.decode()
    for name, words in SETTINGS.items():
        found = re.search(rf'<div class="help explain" id="id_{name}_explain">(.*?)</div>', html,
                          re.S)
        assert found, name
        assert escape(words.means) in found.group(1) and escape(words.change) in found.group(1)
        assert f'href="/runs/glossary/#setting-{name}"' in found.group(1)


def test_the_glossary(client, student):
    client.logout()
    response = client.get(reverse("runs:glossary"))
    assert response.status_code == 302 and "login" in response.url
    client.force_login(student)
    html = client.get(reverse("runs:glossary")).content.decode()
    for name, words in SETTINGS.items():
        assert f'id="setting-{name}"' in html and escape(words.change) in html
    assert "limit 0.00001 – 1" in html and 'id="fork"' in html


def pack_change(client, new, old, **fields):
    query = {"pack": new.slug, "changed_from": old.slug, **fields}
    return client.get(URL, query, HTTP_HX_REQUEST="true")


def test_a_pack_change_keeps_edits_where_the_pack_has_no_say(client, student, pack):
    other = Pack.objects.create(
        slug="other", title="Other", text="ab\nba\naab", builtin=True,
        recommended_config={**TINY, "block_size": 8, "num_steps": 300},
    )
    client.force_login(student)
    typed = {**{k: str(v) for k, v in TINY.items()}, "learning_rate": "0.05", "n_layer": "2",
             "num_steps": "77", "probe_text": "1+1"}
    response = pack_change(client, other, pack, **typed)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="pack-fields">')
    assert 'id="id_pack"' not in html  # the menu itself is never swapped while one types
    values = dict(re.findall(r'<input type="text" name="(\w+)" value="([^"]*)"', html))
    # the student's edits of settings both packs recommend alike are kept...
    assert values["learning_rate"] == "0.05" and values["n_layer"] == "2"
    # ...those the new pack recommends otherwise are its own, and it says so
    assert values["block_size"] == "8" and values["num_steps"] == "300"
    changed = re.search(r'id="pack-changed">(.*?)</p>', html, re.S).group(1)
    assert "block size 16 → <strong>8</strong>" in changed
    assert "training steps 77 → <strong>300</strong>" in changed
    assert "learning rate" not in changed and "Your other settings are kept." in changed
    assert 'name="changed_from" value="other"' in html  # the next change starts from here


def test_a_pack_change_that_changes_nothing_says_so(client, student, pack):
    twin = Pack.objects.create(slug="twin", title="Twin", text="1+1=2", builtin=True,
                               recommended_config=TINY)
    client.force_login(student)
    html = pack_change(client, twin, pack, **{k: str(v) for k, v in TINY.items()}).content.decode()
    assert "Your settings are kept: Twin recommends the same ones." in html


def test_run_again_with_changes_prefills_the_form(client, student, start_run):
    run = start_run(student, learning_rate=0.02, num_steps=40, probe_text="1+2=3")
    assert train_run(run.pk, "test-worker")
    client.force_login(student)
    response = client.get(rerun_url(run, student))
    form = response.context["form"]
    assert form.initial["pack"] == run.pack.slug
    for name in CONFIG_FIELDS:
        assert str(form.initial[name]) == str(run.config[name]), name
    assert form.initial["probe_text"] == "1+2=3"
    page = client.get(reverse("runs:detail", args=[run.pk])).content.decode()
    assert 'id="run-again"' in page
