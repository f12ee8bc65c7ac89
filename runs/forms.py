"""The new-run form: what to train on and the config, checked in one place.

The fields' ranges come from engine.LIMITS and the engine's own checks decide what is
valid (check_limit, GPTConfig and validate_train_config), so the form and the trainer never
disagree; the form only says it in its labels' words and the help text's number format.
A classroom's rules (offered packs, locked fields, its run limit) come from
runs.policy (the classroom layer provides a classroom's); `classroom=None` means the site's rules.
"""

from decimal import Decimal

from django import forms
from django.conf import settings

from engine import LIMITS, GPTConfig, Vocab, check_limit, validate_train_config
from packs_app.models import Upload
from packs_app.setting_words import SETTINGS
from packs_app.sources import SourceError, resolve_source
from runs.config import (
    CONFIG_FIELDS,
    MODEL_FIELDS,
    TRAIN_FIELDS,
    sample_batches,
    samples_per_run,
)
from runs.diagnostics import lines_cut_count
from runs.evaluation import probe_error
from runs.policy import run_policy_for

LABELS = {name: words.label for name, words in SETTINGS.items()}  # packs_app.setting_words
FLOAT_FIELDS = {"learning_rate", "temperature"}


def plain_number(value):
    """4294967295 -> "4,294,967,295"; 1e-05 -> "0.00001"; 5.0 -> "5"."""
    if isinstance(value, int):
        return f"{value:,}"
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def limit_text(name):
    lo, hi = LIMITS[name]
    return f"{plain_number(lo)} – {plain_number(hi)}"


def out_of_range(name, value):
    """The range error in the form's words: the label without its engine name and the
    numbers as the help text writes them ("Learning rate must be between 0.00001 and 1
    (got 5).")."""
    lo, hi = LIMITS[name]
    label = LABELS[name].split(" (")[0]
    return (
        f"{label} must be between {plain_number(lo)} and {plain_number(hi)} "
        f"(got {plain_number(value)})."
    )


def vocabulary_error(vocab_size):
    lo, hi = LIMITS["vocab_size"]  # the vocabulary is the text's characters and BOS
    return (
        f"This text has {vocab_size - 1:,} different characters; a run can learn "
        f"between {lo - 1:,} and {hi - 1:,}."
    )


def config_errors(config, vocab_size=None):
    """[(field or None, message)] for the fields of `config` that parsed (the others are
    missing), empty when valid: each field against its limit on its own, n_head against
    n_embd when both are within theirs, then the whole config once every field is valid.
    `vocab_size` is None when the text is unknown."""
    errors = []
    for name, value in config.items():
        try:
            check_limit(name, value)
        except ValueError:
            errors.append((name, out_of_range(name, value)))
    valid = config.keys() - {name for name, _ in errors}
    if {"n_embd", "n_head"} <= valid:
        n_embd, n_head = config["n_embd"], config["n_head"]
        try:
            validate_train_config(n_embd=n_embd, n_head=n_head)
        except ValueError:
            message = (
                "Attention heads must divide the embedding size: "
                f"{n_head} does not divide {n_embd}."
            )
            errors.append(("n_head", message))
    if {"num_steps", "sample_interval", "sample_count"} <= valid:
        total, budget = samples_per_run(config), settings.LAB_MAX_SAMPLES_PER_RUN
        if total > budget:
            batches = sample_batches(config["num_steps"], config["sample_interval"])
            errors.append(
                (
                    "sample_count",
                    f"{config['sample_count']} samples × {batches:,} batches = {total:,} "
                    f"samples; a run may store at most {budget:,}. Sample less often "
                    "(a larger “sample every”) or fewer per batch.",
                )
            )
    if vocab_size is not None:
        try:
            check_limit("vocab_size", vocab_size)
        except ValueError:
            errors.append(("pack", vocabulary_error(vocab_size)))
    if errors or vocab_size is None or valid != set(CONFIG_FIELDS):
        return errors
    try:  # the engine has the last word; a rule the form has no words for shows as is
        GPTConfig(vocab_size, *(config[name] for name in MODEL_FIELDS))
        validate_train_config(**{name: config[name] for name in TRAIN_FIELDS})
    except ValueError as exc:
        errors.append((None, str(exc)))
    return errors


def block_warning(doc_lengths, block_size):
    """"block size 4 cuts 60 of 60 lines: …" when the block size cuts any line, else ""."""
    count, cut = lines_cut_count(doc_lengths, block_size)
    if not cut:
        return ""
    return (f"Block size {block_size} cuts {cut:,} of {count:,} lines: the model never sees "
            f"their ends. The longest line needs {max(doc_lengths) + 1}.")


def same_number(typed, value):
    """Does the text `typed` (what a field holds) say the number `value`?"""
    try:
        return float(typed) == float(value)
    except ValueError:
        return False


class NewRunForm(forms.Form):
    pack = forms.ChoiceField(label="Train on")
    probe_text = forms.CharField(
        label="Probe line (optional)",
        required=False,
        strip=False,
        max_length=200,
        help_text="A line the run follows from its first step to its last, so you can watch "
        "its predictions improve. Empty: a line held out of training, picked by the seed.",
    )

    def __init__(self, user, *args, classroom=None, **kwargs):
        self.user = user
        self.policy = run_policy_for(user, classroom)
        self.source = None
        super().__init__(*args, **kwargs)
        packs = [(pack.slug, pack.title) for pack in self.policy.offered_packs]
        uploads = [(u.ref, u.title) for u in Upload.objects.visible_to(user)]
        choices = [("Packs", packs)]
        if uploads:
            choices.append(("Your uploads", uploads))
        self.fields["pack"].choices = choices
        for name in CONFIG_FIELDS:
            is_float = name in FLOAT_FIELDS
            # Text, not type=number: Chromium sends "" for "12e" in a number input, so the
            # error would say "required"; inputmode still brings up the number keyboard.
            self.fields[name] = (forms.FloatField if is_float else forms.IntegerField)(
                label=LABELS[name],
                help_text=f"limit {limit_text(name)}",
                widget=forms.TextInput(attrs={"inputmode": "decimal" if is_float else "numeric"}),
            )
        for name in self.policy.locked_fields:
            field = self.fields[name]
            field.disabled = True
            field.initial = self.policy.default_config[name]
            field.help_text = "fixed by your classroom"

    def clean_pack(self):
        ref = self.cleaned_data["pack"]
        try:
            self.source = resolve_source(ref, self.user)
        except SourceError as exc:
            raise forms.ValidationError(str(exc)) from None
        return ref

    def clean(self):
        """Every bad field at once: the fields that parsed are checked even when others
        did not, and the classroom's rules apply to whatever is known."""
        cleaned = super().clean()
        config = self.policy.lock(self.config_from(cleaned))
        pack, upload, vocab_size = None, None, None
        if self.source is not None:
            pack, upload = self.source.pack, self.source.upload
            vocab_size = Vocab.from_docs(self.source.documents).size
        for name, message in config_errors(config, vocab_size):
            self.add_error(name, message)
        for name, message in self.policy.errors(pack, config, upload=upload).items():
            self.add_error(None if name == "__all__" else name, message)
        probe = cleaned.get("probe_text") or ""
        if probe.strip() and self.source is not None and "block_size" in config:
            chars = Vocab.from_docs(self.source.documents).chars
            if error := probe_error(probe, chars, config["block_size"]):
                self.add_error("probe_text", error)
        return cleaned

    @staticmethod
    def config_from(cleaned):
        """The config fields in `cleaned`: all of them once the form is valid."""
        return {name: cleaned[name] for name in CONFIG_FIELDS if name in cleaned}

    @property
    def config(self):
        """The validated run config (call after is_valid()), with the probe line if typed."""
        config = self.policy.lock(self.config_from(self.cleaned_data))
        probe = self.cleaned_data.get("probe_text") or ""
        return {**config, "probe_text": probe} if probe.strip() else config

    def block_warning(self):
        """The form's warning about lines cut by the block size ("" when none are)."""
        try:
            block_size = int(self["block_size"].value())
        except (TypeError, ValueError):
            return ""
        if self.source is None:
            return ""
        return block_warning([len(doc) for doc in self.source.documents], block_size)

    def line_lengths(self):
        """[[characters, how many lines]] of the chosen text, for the form's script."""
        counts = {}
        for doc in self.source.documents if self.source else ():
            counts[len(doc)] = counts.get(len(doc), 0) + 1
        return sorted(counts.items())

    @classmethod
    def initial_for(cls, user, ref, classroom=None):
        """Initial data for `ref` (a pack slug or upload:<id>; the first offered pack when
        empty or unknown): its recommended config, then the classroom's defaults."""
        policy = run_policy_for(user, classroom)
        source = None
        if ref:
            try:
                source = resolve_source(ref, user)
            except SourceError:
                source = None
        if source is not None and source.pack and not policy.allows_pack(source.pack):
            source = None  # not offered in this classroom: its first offered pack instead
        if source is None:
            first = policy.offered_packs.first()
            source = resolve_source(first.slug, user) if first else None
        if source is None:
            return {}, None
        initial = policy.initial_config(source.recommended_config)
        return {"pack": source.ref, **initial}, source

    @classmethod
    def after_pack_change(cls, user, query, initial, classroom=None):
        """The form's values once the student picks another text (`initial`: the new
        text's) while the form holds `query` (its values, and changed_from: the text they
        were set for). A setting the new text recommends differently from the old one is
        the new text's (it "dictates" it: a block size that fits its lines, its steps);
        every other setting keeps what the form holds, edits included. Returns (values,
        [(label, the form's value, the new value)] of what the text changed)."""
        old, _ = cls.initial_for(user, query.get("changed_from", ""), classroom)
        values, changed = dict(initial), []
        for name in CONFIG_FIELDS:
            typed = query.get(name)
            if name not in initial or typed in (None, ""):
                continue
            if initial[name] == old.get(name):
                values[name] = typed  # not the text's to say: the student's value stays
            elif not same_number(typed, initial[name]):
                changed.append((LABELS[name].split(" (")[0], typed, initial[name]))
        if "probe_text" in query:
            values["probe_text"] = query["probe_text"]
        return values, changed

    @staticmethod
    def prefill(initial, query, policy):
        """`initial` with the config a link asks for (?learning_rate=0.001&…, as a
        diagnostic's "what to try" link writes it), except the classroom's locked fields."""
        asked = {
            name: query[name]
            for name in (*CONFIG_FIELDS, "probe_text")
            if name in query and name not in policy.locked_fields
        }
        return {**initial, **asked}
