from django import forms
from django.conf import settings
from django.db.models import Q

from classrooms.models import JOIN_CODE_ALPHABET, Classroom, normalize_join_code
from engine.config import REAL_FIELDS
from packs_app.models import Pack
from runs.config import CONFIG_FIELDS
from runs.forms import config_errors, limit_text
from runs.policy import CONFIG_LABELS


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
    label = CONFIG_LABELS[name].capitalize()
    help_text = f"{limit_text(name)}; blank: the pack's recommendation."
    field_class = forms.FloatField if name in REAL_FIELDS else forms.IntegerField
    return field_class(required=False, label=label, help_text=help_text)


def run_limit_field():
    """A classroom's active-runs limit, as both classroom forms ask for it."""
    site_max = settings.LAB_MAX_ACTIVE_RUNS
    return forms.IntegerField(
        label="Active runs per student",
        min_value=1,
        max_value=site_max,
        help_text=f"Queued or running at once; at most {site_max}.",
        error_messages={"max_value": f"The site allows at most {site_max} active runs."},
    )


def offer_packs(field, classroom):
    """Let a pack choice field offer the enabled packs, and the ones the classroom already
    offers: a pack disabled since stays ticked (marked), so saving the page never drops it
    (dropping the last one would offer every enabled pack instead)."""
    chosen = classroom.offered_packs.values("pk") if classroom.pk else []
    instructor = getattr(classroom, "instructor", None) if classroom.instructor_id else None
    mine = Pack.objects.available_to(instructor).values("pk")  # not another's custom packs
    field.queryset = Pack.objects.filter(Q(pk__in=mine) | Q(pk__in=chosen)).order_by(
        "-builtin", "title"
    )
    field.label_from_instance = lambda pack: (
        pack.title if pack.enabled else f"{pack.title} (disabled)"
    )


def rule_errors(config, locked_fields):
    """What is wrong with a classroom's default config and locked fields, as
    [(field, message)] where field is a setting's name or "locked_fields": the new-run
    form's checks of the defaults (limits, heads dividing the embedding size), and a
    default for every locked field."""
    errors = config_errors(config)
    for name in locked_fields:
        if name not in config:
            message = f"Give the {CONFIG_LABELS[name]} a default before locking it."
            errors.append(("locked_fields", message))
    return errors


class ClassroomSettingsForm(forms.Form):
    """What the instructor controls for runs started in the classroom."""

    offered_packs = forms.ModelMultipleChoiceField(
        queryset=Pack.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every enabled pack is offered.",
    )
    max_active_runs = forms.IntegerField()  # run_limit_field(), made per form
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
        offer_packs(self.fields["offered_packs"], classroom)
        self.fields["max_active_runs"] = run_limit_field()
        for name in CONFIG_FIELDS:
            self.fields[f"config_{name}"] = config_field(name)

    def config_bound_fields(self):
        return [self[f"config_{name}"] for name in CONFIG_FIELDS]

    def clean(self):
        cleaned = super().clean()
        config = {}
        for name in CONFIG_FIELDS:
            value = cleaned.get(f"config_{name}")
            if value is not None:
                config[name] = value
        # a field that did not parse already says so; "give it a default" would be wrong
        locked = [
            name
            for name in cleaned.get("locked_fields", [])
            if not self.has_error(f"config_{name}")
        ]
        for name, message in rule_errors(config, locked):
            self.add_error(name if name == "locked_fields" else f"config_{name}", message)
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


class ClassroomAdminForm(forms.ModelForm):
    """The admin's classroom page, held to the settings page's rules (run_limit_field,
    offer_packs, rule_errors) with the defaults and locks written as JSON, and to the
    join code's format."""

    class Meta:
        model = Classroom
        fields = "__all__"
        help_texts = {
            "default_config": "Run settings prefilled for students, as JSON, e.g. "
            '{"n_embd": 32, "seed": 7}. Settings: ' + ", ".join(CONFIG_FIELDS) + ".",
            "locked_fields": 'Settings students cannot change, as a JSON list, e.g. ["seed"]; '
            "each needs a default above.",
            "join_code": "Six letters and digits, without 0, O, 1 or I.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "offered_packs" in self.fields:
            offer_packs(self.fields["offered_packs"], self.instance)
        if "max_active_runs" in self.fields:
            self.fields["max_active_runs"] = run_limit_field()

    def clean_join_code(self):
        code = normalize_join_code(self.cleaned_data["join_code"])
        if len(code) != 6 or any(char not in JOIN_CODE_ALPHABET for char in code):
            raise forms.ValidationError(
                "A join code is six letters and digits, without 0, O, 1 or I "
                "(they are easy to misread)."
            )
        return code

    def clean_default_config(self):
        config = self.cleaned_data.get("default_config") or {}
        if not isinstance(config, dict):
            raise forms.ValidationError('Give the defaults as a JSON object, e.g. {"seed": 7}.')
        return config

    def clean_locked_fields(self):
        locked = self.cleaned_data.get("locked_fields") or []
        if not isinstance(locked, list) or not all(isinstance(name, str) for name in locked):
            raise forms.ValidationError('Give the locked settings as a JSON list, e.g. ["seed"].')
        return locked

    def clean(self):
        cleaned = super().clean()
        given, locked = cleaned.get("default_config"), cleaned.get("locked_fields")
        if given is None or locked is None:
            return cleaned
        config, unparsed = {}, set()
        for name, value in given.items():
            if name not in CONFIG_FIELDS:
                self.add_error("default_config", f"Unknown setting “{name}”.")
                continue
            try:  # parsed as the settings page parses its field
                value = config_field(name).clean(value)
            except forms.ValidationError as error:
                self.add_error("default_config", f"{name}: {' '.join(error.messages)}")
                unparsed.add(name)
                continue
            if value is not None:
                config[name] = value
        for name in locked:
            if name not in CONFIG_FIELDS:
                self.add_error("locked_fields", f"Unknown setting “{name}”.")
        locked = [name for name in CONFIG_FIELDS if name in locked]
        for name, message in rule_errors(config, [n for n in locked if n not in unparsed]):
            if name == "locked_fields":
                self.add_error("locked_fields", message)
            else:
                self.add_error("default_config", f"{name}: {message}")
        if not self.has_error("default_config") and not self.has_error("locked_fields"):
            cleaned["default_config"], cleaned["locked_fields"] = config, locked
        return cleaned
