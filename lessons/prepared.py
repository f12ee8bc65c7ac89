"""The new-run form prepared by a lesson step (common.lesson_hooks): the step's pack, its
settings preset with its locked fields on top of the classroom's rules. The form enforces
the locks on the server (runs.policy.RunPolicy.lock and .errors), whatever is posted."""

from dataclasses import dataclass

from django.http import Http404
from django.urls import reverse

from classrooms.policy import ClassroomAnswers
from lessons.models import Assignment, Step, StepRun
from packs_app.models import Pack
from runs.config import CONFIG_FIELDS
from runs.policy import RunPolicy


def step_policy(base, step):
    """`base` (the classroom's RunPolicy) with the step's preset and locks: locked fields
    are the classroom's and the step's; the packs offered, the step's pack alone (none when
    it trains on a shared upload)."""
    preset = {k: v for k, v in (step.preset or {}).items() if k in CONFIG_FIELDS}
    default_config = {**base.default_config, **preset}
    locked = tuple(
        dict.fromkeys(
            name
            for name in (*base.locked_fields, *(step.locked or []))
            if name in default_config
        )
    )
    offered = base.offered_packs
    if step.pack_id:
        offered = Pack.objects.filter(pk=step.pack_id)
    elif step.upload_id:
        offered = Pack.objects.none()
    return RunPolicy(base.classroom, default_config, locked, base.max_active_runs, offered)


@dataclass
class PreparedStep:
    step: Step
    assignment: Assignment
    policy: RunPolicy
    user: object

    @property
    def pk(self):
        return self.step.pk

    @property
    def title(self):
        return f"Step {self.step.position}: {self.step.title}"

    @property
    def lesson_title(self):
        return self.assignment.lesson.title

    @property
    def challenge_words(self):
        challenge = self.step.the_challenge
        return challenge.words() if challenge else ""

    @property
    def url(self):
        return reverse("lessons:path", args=[self.assignment.pk]) + f"#step-{self.step.position}"

    @property
    def source_ref(self):
        return self.step.source_ref

    def started(self, run):
        """The run was started from this step: its challenge is checked on it."""
        return StepRun.link(self.assignment, self.step, self.user, run)


class LessonAnswers:
    def prepared_step(self, user, classroom, step_id):
        if not step_id:
            return None
        assignment = (
            Assignment.objects.select_related("lesson")
            .filter(classroom=classroom, lesson__steps__pk=step_id)
            .first()
        )
        if assignment is None:
            raise Http404("No such lesson step in this classroom.")
        step = Step.objects.select_related("pack", "upload").get(pk=step_id)
        if step.opens != Step.Opens.NEW_RUN:
            raise Http404("This lesson step starts no run.")
        base = ClassroomAnswers().run_policy(user, classroom)  # PermissionDenied: not in it
        return PreparedStep(step, assignment, step_policy(base, step), user)
