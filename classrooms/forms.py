from django import forms
from django.conf import settings

from classrooms.models import Classroom, normalize_join_code
from classrooms.policy import CONFIG_LABELS
from engine import LIMITS, check_limit
from engine.config import REAL_FIELDS
from packs_app.models import Pack
from runs.config import CONFIG_FIELDS


class ClassroomForm(forms.ModelForm):
    class Meta:
        model = Classroom
        fields = ["name", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class JoinForm(forms.Form):
    code = forms.CharField(
        label="Join code",
        max_length=20,
        help_text="Six letters and digits, from your instructor.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )

    def clean_code(self):
        code = normalize_join_code(self.cleaned_data["code"])
        classroom = Classroom.objects.filter(join_code=code).first()
        if classroom is None:
            raise forms.ValidationError(
                "No classroom has this code. Check it with your instructor (codes can change)."
            )
        if not classroom.join_open:
            raise forms.ValidationError(
                f"{classroom.name} is closed to new students. Ask your instructor to open it."
            )
        self.classroom = classroom
        return code


def config_field(name):
    lo, hi = LIMITS[name]
    label = CONFIG_LABELS[name].capitalize()
    if name in REAL_FIELDS:
        help_text = f"{lo:g} to {hi:g}; blank: the pack's recommendation."
        return forms.FloatField(required=False, label=label, help_text=help_text)
    help_text = f"{lo:,} to {hi:,}; blank: the pack's recommendation."
    return forms.IntegerField(required=False, label=label, help_text=help_text)


class ClassroomSettingsForm(forms.Form):
    """What the instructor controls for runs started in the classroom."""

    offered_packs = forms.ModelMultipleChoiceField(
        queryset=Pack.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every enabled pack is offered.",
    )
    max_active_runs = forms.IntegerField(
        label="Active runs per student",
        min_value=1,
        help_text="Queued or running at once.",
    )
    locked_fields = forms.MultipleChoiceField(
        choices=[(name, CONFIG_LABELS[name]) for name in CONFIG_FIELDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Locked to the default",
        help_text="Students cannot change these (give each a default above).",
    )

    def __init__(self, *args, classroom, **kwargs):
        self.classroom = classroom
        initial = {
            "offered_packs": list(classroom.offered_packs.values_list("pk", flat=True)),
            "max_active_runs": classroom.max_active_runs,
            "locked_fields": classroom.locked_fields,
            **{f"config_{k}": v for k, v in classroom.default_config.items()},
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["offered_packs"].queryset = Pack.objects.offered()
        site_max = settings.LAB_MAX_ACTIVE_RUNS
        self.fields["max_active_runs"].widget.attrs.update(min=1, max=site_max)
        self.fields["max_active_runs"].help_text = f"Queued or running at once; at most {site_max}."
        for name in CONFIG_FIELDS:
            self.fields[f"config_{name}"] = config_field(name)

    def config_bound_fields(self):
        return [self[f"config_{name}"] for name in CONFIG_FIELDS]

    def clean_max_active_runs(self):
        value = self.cleaned_data["max_active_runs"]
        site_max = settings.LAB_MAX_ACTIVE_RUNS
        if value > site_max:
            raise forms.ValidationError(f"The site allows at most {site_max} active runs.")
        return value

    def clean(self):
        cleaned = super().clean()
        config = {}
        for name in CONFIG_FIELDS:
            value = cleaned.get(f"config_{name}")
            if value is None:
                continue
            try:
                check_limit(name, value)
            except ValueError:
                lo, hi = LIMITS[name]
                self.add_error(f"config_{name}", f"Must be between {lo:g} and {hi:g}.")
                continue
            config[name] = value
        if "n_embd" in config and "n_head" in config and config["n_embd"] % config["n_head"]:
            self.add_error("config_n_head", "The number of heads must divide the embedding size.")
        for name in cleaned.get("locked_fields", []):
            if name not in config and not self.has_error(f"config_{name}"):
                self.add_error(
                    "locked_fields",
                    f"Give the {CONFIG_LABELS[name]} a default before locking it.",
                )
        cleaned["default_config"] = config
        return cleaned

    def save(self):
        classroom = self.classroom
        classroom.default_config = self.cleaned_data["default_config"]
        classroom.locked_fields = [
            name for name in CONFIG_FIELDS if name in self.cleaned_data["locked_fields"]
        ]
        classroom.max_active_runs = self.cleaned_data["max_active_runs"]
        classroom.save(update_fields=["default_config", "locked_fields", "max_active_runs"])
        classroom.offered_packs.set(self.cleaned_data["offered_packs"])
        return classroom
