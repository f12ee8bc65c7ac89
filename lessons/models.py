"""Lessons: ordered steps an instructor writes and assigns to a classroom; the runs students
start for a step (each checked against the step's challenge) and their reflections."""

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q

from lessons.challenges import MET, NOT_MET, PENDING, Challenge

INSTRUCTIONS_MAX_CHARS = 4_000
REFLECTION_MAX_CHARS = 2_000


class LessonQuerySet(models.QuerySet):
    def usable_by(self, user):
        """Lessons an instructor may assign: their own and the lab's starter lessons."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(Q(author=user) | Q(author__isnull=True))


class Lesson(models.Model):
    title = models.CharField(max_length=120)
    summary = models.CharField(max_length=300, blank=True, help_text="One sentence: the idea.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="lessons",
        help_text="Empty for the lab's starter lessons.",
    )
    starter_key = models.SlugField(
        null=True, blank=True, unique=True, help_text="A starter lesson's key (lessons/starter.py)"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LessonQuerySet.as_manager()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    @property
    def is_starter(self):
        return self.author_id is None

    def may_edit(self, user):
        """Its author and site admins; a starter lesson is read-only (copy it to change it)."""
        return user.is_authenticated and not self.is_starter and (
            self.author_id == user.pk or user.is_superuser
        )

    def copy_for(self, user):
        """A copy of the lesson and its steps that `user` writes and may edit (assignments,
        runs and reflections stay with the original)."""
        with transaction.atomic():
            copy = Lesson.objects.create(
                title=f"{self.title} (copy)"[:120], summary=self.summary, author=user)
            Step.objects.bulk_create(
                Step(lesson=copy, position=step.position, title=step.title,
                     instructions=step.instructions, opens=step.opens, pack_id=step.pack_id,
                     upload_id=step.upload_id, preset=dict(step.preset or {}),
                     locked=list(step.locked or []), run_id=step.run_id,
                     challenge=step.challenge, reflection=step.reflection)
                for step in self.steps.order_by("position")
            )
        return copy

    def renumber(self):
        """Positions 1, 2, 3 … in order (after a step is removed). Ascending, each step only
        moves down into a free place, so the one-step-per-position rule always holds."""
        for number, step in enumerate(self.steps.order_by("position"), start=1):
            if step.position != number:
                Step.objects.filter(pk=step.pk).update(position=number)


class Step(models.Model):
    class Opens(models.TextChoices):
        NEW_RUN = "new_run", "the new-run form, prepared"
        RUN = "run", "a given run's page"
        PLAYGROUND = "playground", "a given run's playground"
        OPVIEW = "opview", "a given run's op view"
        NOTHING = "nothing", "nothing (read, then reflect)"

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=120)
    instructions = models.TextField(
        max_length=INSTRUCTIONS_MAX_CHARS,
        help_text="Markdown: **bold**, *em*, `code`, lists and http(s) links.",
    )
    opens = models.CharField(max_length=12, choices=Opens, default=Opens.NEW_RUN)
    pack = models.ForeignKey(
        "packs_app.Pack", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    upload = models.ForeignKey(
        "packs_app.Upload", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    preset = models.JSONField(default=dict, blank=True, help_text="Run settings prefilled.")
    locked = models.JSONField(default=list, blank=True, help_text="Settings students keep.")
    run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The run a step opens (its page, playground or op view).",
    )
    challenge = models.JSONField(null=True, blank=True)
    reflection = models.CharField(
        max_length=300, blank=True, help_text="A question the student answers in a sentence."
    )

    class Meta:
        ordering = ["lesson_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["lesson", "position"], name="one_step_per_position")
        ]

    def __str__(self):
        return f"{self.lesson}: {self.position}. {self.title}"

    @property
    def number(self):
        return self.position

    def move(self, direction):
        """Swap places with the step above ("up") or below ("down"). ValueError, in words
        for the instructor, when there is no step there."""
        if direction not in ("up", "down"):
            raise ValueError("Move a step up or down.")
        with transaction.atomic():
            steps = list(self.lesson.steps.select_for_update().order_by("position"))
            here = next(i for i, step in enumerate(steps) if step.pk == self.pk)
            there = here - 1 if direction == "up" else here + 1
            if not 0 <= there < len(steps):
                where = "first" if direction == "up" else "last"
                raise ValueError(f"Step {self.position} is already the {where} step.")
            other = steps[there]
            mine, theirs = steps[here].position, other.position
            Step.objects.filter(pk=self.pk).update(position=0)  # a free place for the swap
            Step.objects.filter(pk=other.pk).update(position=mine)
            Step.objects.filter(pk=self.pk).update(position=theirs)
        self.position = theirs
        return other

    @property
    def has_results(self):
        """Students have started runs for it: their verdicts were checked against its
        challenge."""
        return self.step_runs.exists()

    @property
    def the_challenge(self):
        """The step's Challenge, or None."""
        return Challenge.from_dict(self.challenge) if self.challenge else None

    @property
    def locked_labels(self):
        """The locked settings as the forms name them ("embedding size, heads")."""
        from runs.policy import CONFIG_LABELS

        return ", ".join(CONFIG_LABELS.get(name, name) for name in self.locked or [])

    @property
    def source_ref(self):
        if self.upload_id:
            return f"upload:{self.upload_id}"
        return self.pack.slug if self.pack_id else ""


class Assignment(models.Model):
    """A lesson given to a classroom: its students see it as a guided path."""

    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="assignments")
    classroom = models.ForeignKey(
        "classrooms.Classroom", on_delete=models.CASCADE, related_name="assignments"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["assigned_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["lesson", "classroom"], name="one_assignment")
        ]

    def __str__(self):
        return f"{self.lesson} in {self.classroom}"


class StepRun(models.Model):
    """A run a student started for a step of an assignment: the step's challenge is checked
    on it while it trains (lessons/checking.py), and "met at step k" recorded once."""

    VERDICTS = [(PENDING, "pending"), (MET, "met"), (NOT_MET, "not met")]

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="step_runs")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="step_runs")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="step_runs"
    )
    run = models.OneToOneField("runs.Run", on_delete=models.CASCADE, related_name="step_run")
    verdict = models.CharField(max_length=8, choices=VERDICTS, default=PENDING)
    checked_step = models.PositiveIntegerField(default=0, help_text="Checked up to this step.")
    value = models.FloatField(null=True, blank=True, help_text="The newest figure compared.")
    met_at_step = models.PositiveIntegerField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["run", "verdict"], name="step_run_pending")]

    def __str__(self):
        return f"{self.student} · {self.step} · run {self.run_id}"

    @classmethod
    def link(cls, assignment, step, student, run):
        with transaction.atomic():
            return cls.objects.create(assignment=assignment, step=step, student=student, run=run)


class Reflection(models.Model):
    """A student's short answer to a step's reflection question."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="reflections")
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="reflections")
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reflections"
    )
    text = models.TextField(max_length=REFLECTION_MAX_CHARS)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "step", "student"], name="one_reflection"
            )
        ]
