"""The new-run form: what to train on and the config, checked in one place.

The fields' ranges come from engine.LIMITS and the engine's own checks decide what is
valid (GPTConfig and validate_train_config), so the form and the trainer never disagree.
A classroom's rules (offered packs, locked fields, its run limit) come from
classrooms.policy; `classroom=None` means the site's rules.
"""

from django import forms

from classrooms.policy import run_policy_for
from engine import LIMITS, GPTConfig, check_limit, validate_train_config
from packs_app.models import Upload
from packs_app.sources import SourceError, resolve_source
from runs.config import CONFIG_FIELDS, MODEL_FIELDS, TRAIN_FIELDS

LABELS = {
    "n_embd": "Embedding size (n_embd)",
    "n_head": "Attention heads (n_head)",
    "n_layer": "Layers (n_layer)",
    "block_size": "Block size (context length)",
    "num_steps": "Training steps",
    "learning_rate": "Learning rate",
    "temperature": "Sampling temperature",
    "seed": "Random seed",
    "sample_count": "Samples per batch",
    "sample_interval": "Sample every … steps",
    "top_k": "Top-k shown per position",
}
FLOAT_FIELDS = {"learning_rate", "temperature"}


def plain_number(value):
    """4294967295 -> "4,294,967,295"; 1e-05 -> "0.00001"."""
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.10f}".rstrip("0").rstrip(".")


def limit_text(name):
    lo, hi = LIMITS[name]
    return f"{plain_number(lo)} – {plain_number(hi)}"


def engine_errors(config, vocab_size):
    """The engine's verdict on `config`: [(field or None, message)], empty when valid. Each
    field's range first (so every bad field is flagged at once), then the whole config."""
    errors = []
    for name in CONFIG_FIELDS:
        try:
            check_limit(name, config[name])
        except ValueError as exc:
            errors.append((name, str(exc)))
    if errors:
        return errors
    try:
        GPTConfig(vocab_size, *(config[name] for name in MODEL_FIELDS))
        validate_train_config(**{name: config[name] for name in TRAIN_FIELDS})
    except ValueError as exc:
        errors.append(field_of(str(exc)))
    return errors


def field_of(message):
    """(field, message): the engine names the field first ("n_head must divide n_embd")."""
    first = message.split(" ", 1)[0]
    if first == "vocab_size":
        return "pack", f"This text has too many different characters: {message}"
    return (first if first in CONFIG_FIELDS else None), message


class NewRunForm(forms.Form):
    pack = forms.ChoiceField(label="Train on")

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
            lo, hi = LIMITS[name]
            field_class = forms.FloatField if name in FLOAT_FIELDS else forms.IntegerField
            attrs = {"min": lo, "max": hi, "step": "any" if name in FLOAT_FIELDS else 1}
            self.fields[name] = field_class(
                label=LABELS[name],
                help_text=f"limit {limit_text(name)}",
                widget=forms.NumberInput(attrs=attrs),
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
        cleaned = super().clean()
        if self.source is None or any(name not in cleaned for name in CONFIG_FIELDS):
            return cleaned
        config = self.policy.lock(self.config_from(cleaned))
        vocab_size = len(set("".join(self.source.documents))) + 1
        for name, message in engine_errors(config, vocab_size):
            self.add_error(name, message)
        problems = self.policy.errors(self.source.pack, config)
        for name, message in problems.items():
            self.add_error(None if name == "__all__" else name, message)
        return cleaned

    @staticmethod
    def config_from(cleaned):
        return {name: cleaned[name] for name in CONFIG_FIELDS}

    @property
    def config(self):
        """The validated run config (call after is_valid())."""
        return self.policy.lock(self.config_from(self.cleaned_data))

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
        if source is None:
            first = policy.offered_packs.first()
            source = resolve_source(first.slug, user) if first else None
        if source is None:
            return {}, None
        initial = policy.initial_config(source.recommended_config)
        return {"pack": source.ref, **initial}, source
