"""The rules for a new run, in one place for the new-run form: the site's own, or those a
classroom sets for runs started in it (provided by the classroom layer through
common.classroom_hooks, so runs never imports classrooms).

policy = run_policy_for(request.user, classroom)   # classroom may be None
initial = policy.initial_config(pack.recommended_config)
errors = policy.errors(pack, config, active_runs=...)  # {field: message}, {} when fine
"""

from dataclasses import dataclass, field

from django.conf import settings

from common.classroom_hooks import classrooms
from packs_app.models import Pack
from packs_app.setting_words import SETTINGS

# a setting inside a sentence ("The learning rate is fixed at 0.01."): packs_app.setting_words
CONFIG_LABELS = {name: words.short for name, words in SETTINGS.items()}


def site_max_active_runs():
    return settings.LAB_MAX_ACTIVE_RUNS


@dataclass(frozen=True)
class RunPolicy:
    classroom: object | None  # a classrooms.Classroom, or None for the site's rules
    default_config: dict = field(default_factory=dict)
    locked_fields: tuple = ()
    max_active_runs: int = 3
    offered_packs: object = None  # a Pack queryset

    def initial_config(self, recommended_config=None):
        """The form's starting values: the pack's recommendation, then the classroom's."""
        return {**(recommended_config or {}), **self.default_config}

    def allows_pack(self, pack):
        return self.offered_packs.filter(pk=pack.pk).exists()

    def errors(self, pack=None, config=None, *, active_runs=0, upload=None):
        """Why this run may not start here, as {field: message}; {} when it may.

        `pack` is None for an upload (`upload`, when given, is checked against the terms
        the classroom's instructor blocked); `active_runs` is the student's queued +
        running count. The key "__all__" carries errors that belong to no single field."""
        problems = {}
        where = f" in {self.classroom.name}" if self.classroom else ""
        if pack is not None and not self.allows_pack(pack):
            problems["pack"] = f"{pack.title} is not offered{where}."
        if upload is not None and self.classroom is not None:
            refusal = upload.refusal(self.classroom.instructor)
            if refusal:
                problems["pack"] = f"{upload.title} cannot be trained on{where}: {refusal}"
        for name in self.locked_fields:
            if name in (config or {}) and config[name] != self.default_config.get(name):
                label = CONFIG_LABELS.get(name, name)
                problems[name] = f"The {label} is fixed at {self.default_config.get(name)}{where}."
        if active_runs >= self.max_active_runs:
            problems["__all__"] = (
                f"You already have {active_runs} runs queued or running; the limit{where} is "
                f"{self.max_active_runs}. Wait for one to finish or cancel one."
            )
        return problems

    def lock(self, config):
        """`config` with every locked field set to the classroom's value."""
        return {**config, **{name: self.default_config[name] for name in self.locked_fields}}


def site_policy(user=None):
    """The site's own rules: the packs `user` may use (built-in and site packs, their own
    custom packs, those shared with them), nothing locked, the site's active-run limit."""
    return RunPolicy(None, {}, (), site_max_active_runs(), Pack.objects.available_to(user))


def run_policy_for(user, classroom=None):
    """The rules for a run `user` starts in `classroom` (None: the site's own rules).

    Raises PermissionDenied when the user neither belongs to nor teaches the classroom."""
    if classroom is None:
        return site_policy(user)
    return classrooms().run_policy(user, classroom) or site_policy(user)
