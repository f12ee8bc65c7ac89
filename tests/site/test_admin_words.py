"""The admin in plain words: every field of the lab's models that the admin shows has a
name and a help text an instructor who does not program can read (issue 18: help texts in
plain words). Code words (snake_case names, file names, "seq", "BOS") are what a
developer reads, not an instructor."""

import re

import pytest
from django.apps import apps
from django.contrib import admin

APPS = ("runs", "classrooms", "packs_app", "notices")
CODE_WORDS = re.compile(
    r"\b[a-z]+_[a-z_]+\b|\.py\b|\bseq\b|\bBOS\b|\bcorpus\b|\bvocab\b|host:pid|\[['\"]"
)
# a name that says it all (a title, a date said as an event, who it belongs to)
SELF_EVIDENT = {
    "classroom", "pack", "upload", "run", "user", "student", "text", "created", "sent",
    "joined", "removed", "added", "first uploaded", "started from the form", "first reached",
}  # fmt: skip


def lab_fields():
    for app in APPS:
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.get_fields():
                if field.auto_created and not field.concrete:
                    continue  # the other side of a relation
                if field.name == "id" and not field.help_text:
                    continue  # an automatic row number
                yield model, field


@pytest.mark.parametrize(("model", "field"), list(lab_fields()),
                         ids=lambda v: getattr(v, "name", getattr(v, "__name__", "")))
def test_field_names_and_help_texts_use_no_code_words(model, field):
    for words in (str(field.verbose_name), str(field.help_text)):
        assert not CODE_WORDS.search(words), f"{model.__name__}.{field.name}: {words!r}"


def test_every_field_the_admin_shows_is_explained():
    unexplained = [
        f"{model.__name__}.{field.name} ({field.verbose_name})"
        for model, field in lab_fields()
        if model in admin.site._registry
        and not field.help_text
        and str(field.verbose_name) not in SELF_EVIDENT
    ]
    assert unexplained == []
