import secrets

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q

JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
DEFAULT_MAX_ACTIVE_RUNS = 3
DESCRIPTION_MAX_CHARS = 2_000  # a paragraph or two on the student's page


def new_join_code():
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(6))


def normalize_join_code(text):
    """What a student typed -> the stored form: case and spaces do not matter."""
    return "".join((text or "").split()).upper()


class ClassroomQuerySet(models.QuerySet):
    def taught_by(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(instructor=user)

    def of_user(self, user):
        """The classrooms a user belongs to or teaches."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(instructor=user) | Q(students=user)).distinct()


class Classroom(models.Model):
    name = models.CharField(max_length=100, help_text="What students see the class called.")
    description = models.TextField(
        blank=True,
        max_length=DESCRIPTION_MAX_CHARS,
        help_text=f"What the class is about, at most {DESCRIPTION_MAX_CHARS:,} characters.",
    )
    instructor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="classrooms_taught",
        help_text="The teacher who runs the class and sees its students' runs.",
    )
    join_code = models.CharField(
        max_length=12,
        unique=True,
        default=new_join_code,
        help_text="The code students type (or follow as a link) to join the class.",
    )
    join_open = models.BooleanField(
        default=True,
        verbose_name="open to join",
        help_text="Untick to stop new students joining with the code; members stay.",
    )
    students = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        related_name="classrooms",
        help_text="The students who joined the class.",
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="created")

    # The lesson's rules for runs started in this classroom (see classrooms/policy.py).
    offered_packs = models.ManyToManyField(
        "packs_app.Pack",
        blank=True,
        related_name="+",
        verbose_name="packs offered",
        help_text="The packs of example text students may train on in this class. None chosen: "
        "every pack the lab offers.",
    )
    default_config = models.JSONField(
        default=dict,
        blank=True,
        verbose_name="starting settings",
        help_text="Run settings already filled in on the new-run form for students.",
    )
    locked_fields = models.JSONField(
        default=list,
        blank=True,
        verbose_name="locked settings",
        help_text="Settings students cannot change from the starting settings.",
    )
    max_active_runs = models.PositiveSmallIntegerField(
        default=DEFAULT_MAX_ACTIVE_RUNS,
        verbose_name="runs at once",
        help_text="How many runs a student may have waiting or training at the same time.",
    )
    spotlight_run = models.ForeignKey(
        "runs.Run",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="run on the projector",
        help_text="The run shown on the class's projector page (chosen from the class panel).",
    )

    objects = ClassroomQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.name

    def is_taught_by(self, user):
        return user.is_authenticated and (user.is_superuser or self.instructor_id == user.id)

    def has_member(self, user):
        return (
            user.is_authenticated
            and Membership.objects.filter(classroom=self, student=user).exists()
        )

    def rotate_code(self):
        """A fresh join code: the old one stops working at once."""
        while True:
            code = new_join_code()
            if not Classroom.objects.filter(join_code=code).exists():
                break
        self.join_code = code
        self.save(update_fields=["join_code"])

    def set_join_open(self, is_open):
        self.join_open = is_open
        self.save(update_fields=["join_open"])

    def join(self, student):
        """Add a student; returns the membership (joining twice is harmless)."""
        membership, _ = Membership.objects.get_or_create(classroom=self, student=student)
        Removal.objects.filter(classroom=self, student=student).delete()
        return membership

    def remove(self, student, *, by_instructor=False):
        """Remove a student (or let them leave). Their runs stay theirs; runs shared here
        are unshared. Removed by the instructor, they are told, and the classroom's pages
        say "You were removed from …" instead of "not found"."""
        import notices
        from runs.models import Run

        # one transaction: the sockets' access hints (classrooms/signals.py) go out after
        # the runs are unshared too
        with transaction.atomic():
            left = Membership.objects.filter(classroom=self, student=student).delete()[0]
            Run.objects.filter(owner=student, classroom=self).update(classroom=None)
            if self.spotlight_run_id and self.spotlight_run.owner_id == student.id:
                self.spotlight(None)
            if by_instructor and left:
                Removal.objects.get_or_create(classroom=self, student=student)
                notices.tell(
                    student,
                    f"You were removed from {self.name} by its instructor. Your runs stay yours.",
                )

    def spotlight(self, run):
        self.spotlight_run = run
        self.save(update_fields=["spotlight_run"])

    def runs(self):
        """Every run of the classroom's students (what the instructor sees on the panel)."""
        from runs.models import Run

        return Run.objects.filter(owner__classrooms=self)

    def shared_runs(self):
        """Runs the students shared with the class (what classmates may watch)."""
        from runs.models import Run

        return Run.objects.filter(classroom=self, owner__classrooms=self)


class Membership(models.Model):
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE)
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        help_text="A student in the class: the instructor sees the runs they share with it.",
    )
    joined_at = models.DateTimeField(auto_now_add=True, verbose_name="joined")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["classroom", "student"], name="one_membership")
        ]

    def __str__(self):
        return f"{self.student} in {self.classroom}"


class Removal(models.Model):
    """A student the instructor removed: the classroom's pages tell them so."""

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE)
    student = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    removed_at = models.DateTimeField(auto_now_add=True, verbose_name="removed")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["classroom", "student"], name="one_removal")]

    def __str__(self):
        return f"{self.student} removed from {self.classroom}"


class FunnelEvent(models.Model):
    """The first time a user reached a stage of the lesson funnel (see classrooms/funnel.py).
    Plain rows in our own database: no third-party analytics."""

    class Stage(models.TextChoices):
        OPENED_OP_VIEW = "opened_op_view", "opened the op-level view"
        UPLOADED_TEXT = "uploaded_text", "uploaded their own text"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="funnel_events"
    )
    stage = models.CharField(
        max_length=32,
        choices=Stage,
        verbose_name="milestone",
        help_text="A step of the lesson the user reached for the first time.",
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="first reached")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "stage"], name="one_funnel_event_per_stage")
        ]
