"""The instructor's forms: a lesson, a step (with its settings preset, locks and challenge
built in plain words), assigning a lesson, and a student's reflection."""

from django import forms

from classrooms.forms import config_field, rule_errors
from lessons.challenges import KINDS, Challenge
from lessons.models import REFLECTION_MAX_CHARS, Lesson, Step
from packs_app.models import Pack
from runs.config import CONFIG_FIELDS
from runs.lenses.roles import ROLES
from runs.models import Run
from runs.permissions import can_view
from runs.policy import CONFIG_LABELS


class LessonForm(forms.ModelForm):
    class Meta:
        model = Lesson
        fields = ["title", "summary"]


class StepForm(forms.ModelForm):
    run_id = forms.IntegerField(
        required=False, label="Run to open",
        help_text="A pack's showcase run (every student may open it), for a step that opens a "
        "run's page, playground or op view.",
    )
    locked_fields = forms.MultipleChoiceField(
        required=False, label="Locked settings (students keep these)",
        choices=[(n, CONFIG_LABELS[n]) for n in CONFIG_FIELDS],
        widget=forms.CheckboxSelectMultiple,
    )
    challenge_kind = forms.ChoiceField(
        required=False, label="Challenge",
        choices=[("", "No challenge"), *KINDS.items()],
    )
    challenge_target = forms.FloatField(
        required=False, label="Number to reach",
        help_text="A loss or gap (e.g. 1.5), or a share or score between 0 and 1 (0.8 = 80%).",
    )
    challenge_by_step = forms.IntegerField(
        required=False, min_value=1, label="By step (optional)",
        help_text="For the loss challenges: met only if reached by this step.",
    )
    challenge_role = forms.ChoiceField(
        required=False, label="Head role", choices=[(r.key, r.title) for r in ROLES],
        help_text="Only for “A head takes a role”: the attention pattern a head must learn.",
    )
    challenge_layer = forms.IntegerField(
        required=False, min_value=0, max_value=1, label="In layer (optional)",
        help_text="Only for “A head takes a role”: layer 0 or 1; empty: any layer.",
    )

    class Meta:
        model = Step
        fields = ["title", "instructions", "opens", "pack", "reflection"]
        widgets = {"instructions": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, user, **kwargs):
        if kwargs.get("instance") is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(kwargs["instance"])  # unbound: the stored step
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["pack"].queryset = Pack.objects.available_to(user)
        self.fields["pack"].help_text = ("The text the step's run trains on (for a step that "
                                         "opens the new-run form).")
        self.fields["opens"].label = "The step's button opens"
        self.fields["reflection"].label = "Reflection question"
        self.fields["reflection"].help_text = (
            "Optional for a step that opens the new-run form (its run's ending completes it); "
            "needed otherwise: answering it is how the student completes the step.")
        for name in CONFIG_FIELDS:
            self.fields[f"config_{name}"] = config_field(name)

    @staticmethod
    def initial_for(step):
        """The form's extra fields as the stored step has them (for editing it)."""
        initial = {"run_id": step.run_id, "locked_fields": list(step.locked or [])}
        initial.update({f"config_{name}": value for name, value in (step.preset or {}).items()
                        if name in CONFIG_FIELDS})
        for name, value in (step.challenge or {}).items():
            initial[f"challenge_{name}"] = value
        return initial

    def bound(self, *names):
        return [self[name] for name in names]

    @property
    def words_fields(self):
        return self.bound("title", "instructions", "reflection")

    @property
    def opens_fields(self):
        return self.bound("opens", "pack", "run_id")

    @property
    def config_fields(self):
        return self.bound(*(f"config_{name}" for name in CONFIG_FIELDS))

    @property
    def challenge_fields(self):
        return self.bound("challenge_kind", "challenge_target", "challenge_by_step",
                          "challenge_role", "challenge_layer")

    def clean(self):
        cleaned = super().clean()
        opens = cleaned.get("opens")
        run_id = cleaned.get("run_id")
        self.run = None
        if opens in (Step.Opens.RUN, Step.Opens.PLAYGROUND, Step.Opens.OPVIEW):
            run = Run.objects.filter(pk=run_id).first() if run_id else None
            if run is None or not can_view(self.user, run):
                self.add_error("run_id", "Give the number of a run you may see.")
            elif not run.showcase:
                self.add_error("run_id", f"Run {run.pk} is private to its owner's class: give a "
                               "pack's showcase run, which every student may open.")
            self.run = run
        if opens == Step.Opens.NEW_RUN and not cleaned.get("pack"):
            self.add_error("pack", "Choose the pack the step's run trains on.")
        if opens and opens != Step.Opens.NEW_RUN and not (cleaned.get("reflection") or "").strip():
            self.add_error("reflection", "Ask a question: a step that starts no run is "
                           "completed when the student answers it (the panel shows that).")
        config = {n: cleaned[f"config_{n}"] for n in CONFIG_FIELDS
                  if cleaned.get(f"config_{n}") is not None}
        locked = cleaned.get("locked_fields") or []
        for name, message in rule_errors(config, locked):
            self.add_error("locked_fields" if name == "locked_fields" else f"config_{name}",
                           message)
        self.preset, self.locked = config, list(locked)
        self.challenge = None
        kind = cleaned.get("challenge_kind")
        if kind:
            if opens != Step.Opens.NEW_RUN:
                self.add_error("challenge_kind", "A challenge is checked on a run the step "
                               "starts: make the step open the new-run form.")
            data = {"kind": kind, "target": cleaned.get("challenge_target"),
                    "by_step": cleaned.get("challenge_by_step"),
                    "role": cleaned.get("challenge_role"),
                    "layer": cleaned.get("challenge_layer")}
            try:
                self.challenge = Challenge.from_dict(data).to_dict()
            except ValueError as exc:
                self.add_error("challenge_target", f"{str(exc).capitalize()}.")
            pack = cleaned.get("pack")
            if kind == "template_share" and pack and not pack.adherence_pattern:
                self.add_error("challenge_kind", f"{pack.title} has no template to follow.")
            if kind == "correct_share" and pack and not pack.builtin:
                self.add_error("challenge_kind",
                               "Only the built-in packs can check that samples are correct.")
        self.refuse_rewriting_results()
        return cleaned

    def refuse_rewriting_results(self):
        """A step whose runs were already checked keeps its challenge: its "met at step k"
        results were checked against it, and would silently mean something else."""
        step = self.instance
        if step.pk is None or not step.challenge and not self.challenge:
            return
        before = Challenge.from_dict(step.challenge).to_dict() if step.challenge else None
        if before == self.challenge or not step.has_results:
            return
        count = step.step_runs.count()
        self.add_error("challenge_kind", (
            f"Students have started {count} run{'s' if count != 1 else ''} for this step, each "
            "checked against its challenge as it stands, so the challenge cannot change now. "
            "Add a new step with the new challenge (and remove this one if you like), or copy "
            "the lesson and change the copy."
        ))

    def save_to(self, lesson):
        step = self.save(commit=False)
        step.lesson = lesson
        if step.position is None:  # a new step goes last
            step.position = (lesson.steps.order_by("-position").values_list(
                "position", flat=True).first() or 0) + 1
        step.preset, step.locked, step.challenge, step.run = (
            self.preset, self.locked, self.challenge, self.run)
        step.save()
        return step


class ReflectionForm(forms.Form):
    text = forms.CharField(
        label="Your answer", max_length=REFLECTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"A sentence or two; at most {REFLECTION_MAX_CHARS:,} characters. "
                  "Your instructor reads it.",
    )
