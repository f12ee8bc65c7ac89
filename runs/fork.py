"""Forking a run: a child that is its parent up to step k, then goes on with changed settings.

The engine is deterministic, so nothing of the parent's optimiser needs storing: the child's
trainer replays the parent's first k steps from the seed (with the parent's learning-rate
schedule, kept in the child's config as "history", see engine.trainer.fork_history) and then
trains on with its own learning rate, length, temperature and sampling. What the parent stored
for steps 1..k (steps, evaluations, snapshots with their parameters, samples) is copied into the
child when it is queued, so the child's page, export, diagnostics and final loss read one
complete run, and the worker starts at step k + 1 as it resumes a lost worker's run.
"Continue" is a fork at the last step with more steps.

    form = ForkForm(user, parent, data)     # step + the FORK_FIELDS, checked
    child = start_fork(user, parent, form)  # raises ActiveRunLimit
"""

from urllib.parse import urlencode

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from engine import LIMITS
from packs_app.sources import SourceError, resolve_source
from runs.config import CONFIG_FIELDS, FORK_FIELDS
from runs.forms import FLOAT_FIELDS, LABELS, config_errors, limit_text
from runs.models import Kind, Run, RunCheckpoint
from runs.policy import run_policy_for
from runs.rerun import rerun_url

COPIED_KINDS = (Kind.STEP, Kind.EVAL, Kind.SNAPSHOT, Kind.SAMPLES)


def child_history(parent_config, step):
    """The child's "history": the learning-rate schedules its steps 1..`step` took, as
    [[until, learning_rate, num_steps]]: the parent's own history cut at `step`, then the
    parent's settings up to `step`."""
    history = []
    for until, learning_rate, num_steps in parent_config.get("history") or ():
        history.append([min(until, step), learning_rate, num_steps])
        if until >= step:
            return history
    history.append([step, parent_config["learning_rate"], parent_config["num_steps"]])
    return history


def fork_config(parent, step, changes):
    """The child's config: the parent's, with `changes` (some of FORK_FIELDS) and the history
    that replays the parent's first `step` steps."""
    unknown = set(changes) - set(FORK_FIELDS)
    if unknown:
        raise ValueError(f"a fork cannot change {', '.join(sorted(unknown))}")
    config = {name: value for name, value in parent.config.items() if name != "history"}
    return {**config, **changes, "history": child_history(parent.config, step)}


def classroom_for_fork(user, parent):
    """The owner's fork stays in the parent's classroom (its rules and classmates); anyone
    else's fork, or the owner's after leaving that classroom, is private."""
    if parent.classroom is None or parent.owner_id != user.pk:
        return None, run_policy_for(user, None)
    try:
        return parent.classroom, run_policy_for(user, parent.classroom)
    except PermissionDenied:
        return None, run_policy_for(user, None)


class ForkForm(forms.Form):
    """The step to fork at and the settings the child changes (initial: the parent's)."""

    step = forms.IntegerField(
        label="Fork at step",
        help_text="The child is this run up to here, step for step, then trains on its own.",
    )

    def __init__(self, user, parent, *args, **kwargs):
        self.user, self.parent, self.source = user, parent, None
        self.classroom, self.policy = classroom_for_fork(user, parent)
        super().__init__(*args, **kwargs)
        for name in FORK_FIELDS:
            is_float = name in FLOAT_FIELDS
            self.fields[name] = (forms.FloatField if is_float else forms.IntegerField)(
                label=LABELS[name],
                help_text=f"limit {limit_text(name)}; this run's: {parent.config.get(name)}",
                widget=forms.TextInput(attrs={"inputmode": "decimal" if is_float else "numeric"}),
            )
        self.fields["step"].help_text += f" This run stored steps 1 – {parent.current_step}."
        for name in self.policy.locked_fields:
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].initial = self.policy.default_config[name]
                self.fields[name].help_text = "fixed by your classroom"

    @staticmethod
    def initial_for(parent, query):
        """The parent's settings and its last step (with ?continue, twice its steps), then
        whatever `query` (a dict, e.g. a link's ?step=…&num_steps=…) names of the fork's
        fields."""
        initial = {"step": parent.current_step}
        initial.update({name: parent.config.get(name) for name in FORK_FIELDS})
        if "continue" in query:  # "Continue training": at the last step, with more steps
            top = LIMITS["num_steps"][1]
            initial["num_steps"] = min(top, max(2 * parent.current_step, parent.current_step + 1))
        initial.update({name: query[name] for name in ("step", *FORK_FIELDS) if name in query})
        return initial

    def clean(self):
        cleaned = super().clean()
        parent = self.parent
        if not parent.is_finished:
            raise forms.ValidationError(
                "This run is still going: fork it once it has ended (or cancel it first)."
            )
        step = cleaned.get("step")
        if step is not None and not 1 <= step <= parent.current_step:
            self.add_error(
                "step", f"Pick a step this run stored: 1 – {parent.current_step} (got {step})."
            )
            step = None
        changes = {name: cleaned[name] for name in FORK_FIELDS if name in cleaned}
        changes = {name: value for name, value in self.policy.lock(changes).items()
                   if name in FORK_FIELDS}
        num_steps = changes.get("num_steps")
        if step is not None and num_steps is not None and num_steps <= step:
            hi = LIMITS["num_steps"][1]
            self.add_error(
                "num_steps",
                f"The child must train past step {step}: give it more steps (at most {hi:,}).",
            )
        for name, message in config_errors(changes):
            self.add_error(name if name in self.fields else None, message)
        try:
            self.source = resolve_source(parent.source_ref, self.user)
        except SourceError as exc:
            message = f"This run's text cannot be trained on again: {exc}"
            raise forms.ValidationError(message) from None
        if not self.errors and step is not None:
            self.config = fork_config(parent, step, changes)
            source = self.source
            for name, message in self.policy.errors(
                source.pack, self.config, upload=source.upload
            ).items():
                self.add_error(None if name not in self.fields else name, message)
        return cleaned


def copy_parent_steps(parent, child, step):
    """Store in `child` what `parent` stored for steps 1..`step` (in the parent's order) and
    the parameters of its snapshots up to there; the child's current step becomes `step`."""
    events = [
        (kind, event_step, data)
        for kind, event_step, data in parent.events.filter(kind__in=COPIED_KINDS, step__lte=step)
        .order_by("seq")
        .values_list("kind", "step", "data")
    ]
    checkpoints = [
        RunCheckpoint(step=checkpoint_step, blob=blob)
        for checkpoint_step, blob in parent.checkpoints.filter(step__lte=step)
        .order_by("step")
        .values_list("step", "blob")
    ]
    child.append_events(events, checkpoints, current_step=step, vocab=parent.vocab)


def start_fork(user, form):
    """Queue the child of a valid ForkForm, owned by `user`, with its parent's steps up to the
    fork copied in the same transaction (so no worker sees it half made). Raises
    ActiveRunLimit as a new run does."""
    parent, step = form.parent, form.cleaned_data["step"]
    with transaction.atomic():
        child = Run.objects.start(
            user,
            form.source,
            form.config,
            classroom=form.classroom,
            max_active=form.policy.max_active_runs,
            parent=parent,
            fork_step=step,
        )
        copy_parent_steps(parent, child, step)
    return child


def settings_changed(child):
    """[(field, parent's value, child's value)] of the settings a fork changed ([] for a run
    that is not a fork, or whose parent is gone)."""
    parent = child.parent
    if parent is None:
        return []
    return [
        (name, parent.config.get(name), child.config.get(name))
        for name in CONFIG_FIELDS
        if parent.config.get(name) != child.config.get(name)
    ]


def lineage(run, user):
    """What the run page says of forks: its parent (when the user may see it), its forks the
    user may see, and the links to run it again, fork it, continue it and compare them (and
    the viewer's own recent runs to compare it with)."""
    visible = Run.objects.visible_to(user)
    parent = run.parent if run.parent_id and visible.filter(pk=run.parent_id).exists() else None
    forks = list(visible.filter(parent=run).order_by("pk")) if user.is_authenticated else []
    # shown while it trains too (the header is not pushed live): the form waits for the end
    can_fork = user.is_authenticated
    fork_url = reverse("runs:fork", args=[run.pk])
    continue_url = ""
    if can_fork and min(run.num_steps, run.current_step or run.num_steps) < LIMITS["num_steps"][1]:
        continue_url = f"{fork_url}?continue"
    family = [r.pk for r in ([parent] if parent else []) + [run] + forks][:6]
    compare_url = ""
    if len(family) > 1:
        compare_url = f"{reverse('runs:compare')}?{urlencode({'run': family}, doseq=True)}"
    others = []  # the viewer's own recent runs, to compare this one with
    if user.is_authenticated:
        others = list(Run.objects.filter(owner=user).exclude(pk=run.pk)
                      .select_related("pack", "upload").order_by("-pk")[:12])
    return {
        "parent": parent,
        "forks": forks,
        "others": others,
        "changed": settings_changed(run) if parent else [],
        "rerun_url": rerun_url(run, user) if user.is_authenticated else "",
        "fork_url": fork_url if can_fork else "",
        "continue_url": continue_url,
        "compare_url": compare_url,
    }
