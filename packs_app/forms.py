import re

from django import forms

from engine import check_limit
from packs_app.models import BlocklistEntry, Pack
from packs_app.sources import DEFAULT_CONFIG
from packs_app.validation import (
    UploadRejected,
    check_text,
    check_upload,
    max_upload_bytes,
    too_large_message,
)


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Text file (.txt)",
        allow_empty_file=True,  # an empty file gets the "no documents" message
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,text/plain"}),
        help_text="UTF-8, at most 200 KB (204,800 bytes). One document per line; empty lines "
        "are dropped.",
    )

    def __init__(self, *args, too_large=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        self.status = 400

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if self.too_large or upload.size > max_upload_bytes():
            self.status = 413
            raise forms.ValidationError(too_large_message())
        try:
            return check_upload(upload.name, upload.read())
        except UploadRejected as rejected:
            self.status = rejected.status
            raise forms.ValidationError(rejected.message) from None

    def full_clean(self):
        # A file stopped for its size never reaches `files`: say why, not "required".
        if self.too_large and self.is_bound and "file" not in self.files:
            self._errors = forms.utils.ErrorDict()
            self.cleaned_data = {}
            self.status = 413
            self.add_error("file", too_large_message())
            return
        super().full_clean()


class ShareForm(forms.Form):
    classroom = forms.ModelChoiceField(queryset=None, label="Share with classroom")

    def __init__(self, *args, classrooms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["classroom"].queryset = classrooms


def check_run_config(config):
    """Errors in a recommended config: unknown keys or values outside the engine's limits."""
    errors = []
    for key, value in config.items():
        if key not in DEFAULT_CONFIG:
            errors.append(f"unknown setting “{key}”")
            continue
        try:
            check_limit(key, value)
        except ValueError as error:
            errors.append(str(error))
    merged = {**DEFAULT_CONFIG, **config}
    if not errors and merged["n_embd"] % merged["n_head"]:
        errors.append("n_head must divide n_embd")
    return errors


class PackAdminForm(forms.ModelForm):
    """Custom packs get the upload rules (preprocessing, size, characters, blocklist), a
    pattern that compiles and matches every line, and a config within the engine's limits."""

    class Meta:
        model = Pack
        fields = "__all__"
        help_texts = {
            "text": "The example text the model learns from, one example per line. Checked like "
            "a student's upload: spaces at line ends and empty lines are dropped; the size, "
            "the characters and the blocklist are checked.",
            "adherence_pattern": "The shape every line has, as a regular expression (a small "
            "pattern language); a sample that matches it whole “follows the template”. It must "
            "match every line of the text. Empty: no template.",
            "recommended_config": "The settings the new-run form starts from for this pack, as "
            'JSON, e.g. {"num_steps": 600, "n_embd": 32}. Empty: the lab\'s defaults.',
        }
        widgets = {
            "text": forms.Textarea(attrs={"rows": 16, "cols": 90, "class": "vLargeTextField"})
        }

    def clean_text(self):
        text = self.cleaned_data["text"]
        if self.instance.builtin:
            return self.instance.text
        try:
            return check_text(text)
        except UploadRejected as rejected:
            raise forms.ValidationError(rejected.message) from None

    def clean_adherence_pattern(self):
        pattern = self.cleaned_data["adherence_pattern"]
        if self.instance.builtin:
            return self.instance.adherence_pattern
        if pattern:
            try:
                re.compile(pattern)
            except re.error as error:
                raise forms.ValidationError(f"Not a valid regular expression: {error}.") from None
        return pattern

    def clean_recommended_config(self):
        config = self.cleaned_data.get("recommended_config") or {}
        if not isinstance(config, dict):
            raise forms.ValidationError(
                'The config must be a JSON object such as {"num_steps": 500}.'
            )
        errors = check_run_config(config)
        if errors:
            raise forms.ValidationError("; ".join(errors) + ".")
        if not config and not self.instance.builtin:
            config = dict(DEFAULT_CONFIG)
        return config

    def clean(self):
        cleaned = super().clean()
        pattern, text = cleaned.get("adherence_pattern"), cleaned.get("text")
        if pattern and text and not self.instance.builtin:
            compiled = re.compile(pattern)
            for number, line in enumerate(text.split("\n"), start=1):
                if not compiled.fullmatch(line):
                    self.add_error(
                        "adherence_pattern",
                        f"The pattern must match every line as a whole; line {number} "
                        f"({line[:60]!r}) does not match.",
                    )
                    break
        if not self.instance.builtin:
            self.check_probe(cleaned)
        return cleaned

    def check_probe(self, cleaned):
        """The probe line holds only characters of the text; its position is within it."""
        probe, focus, text = (cleaned.get(k) for k in ("probe_line", "probe_focus", "text"))
        if probe and text is not None:
            unknown = sorted(set(probe) - set(text))
            if unknown:
                shown = " ".join(repr(ch) for ch in unknown[:8])
                self.add_error(
                    "probe_line", f"The probe line has characters the text does not: {shown}."
                )
        if focus is not None and not probe:
            self.add_error("probe_focus", "Give a probe line first, or leave this empty.")
        elif focus is not None and focus > len(probe):
            self.add_error(
                "probe_focus",
                f"The probe line has {len(probe)} characters: the position is 0 to "
                f"{len(probe)} ({len(probe)}: the end of the line).",
            )


class BlocklistEntryForm(forms.ModelForm):
    class Meta:
        model = BlocklistEntry
        fields = ["category", "pattern", "is_regex", "enabled", "note"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # BlocklistEntry.clean() refuses a blank pattern (spaces too) with its own message;
        # the form's "This field is required." on top of it said the same thing twice.
        self.fields["pattern"].required = False
