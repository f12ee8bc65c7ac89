import hashlib
import html
import logging
import re
import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

log = logging.getLogger(__name__)

PREVIEW_LINES = 8
PROBE_MAX_CHARS = 64  # the largest block size: a longer line is never read whole


def id_for(text, owner_id, length=20):
    """An upload's id: the SHA-256 of its owner and its text (also used by migrations)."""
    return hashlib.sha256(f"{owner_id}\n{text}".encode()).hexdigest()[:length]


def document_lines(text):
    return [line for line in text.splitlines() if line]


class PackQuerySet(models.QuerySet):
    def offered(self):
        return self.filter(enabled=True).order_by("-builtin", "title")

    def available_to(self, user):
        """Enabled packs `user` may offer or train on by their own choice: the site's (built
        in, or custom without an instructor: an administrator's), the custom packs they
        made, and those another instructor shared with them (a superuser: every one)."""
        packs = self.offered()
        site = Q(builtin=True) | Q(created_by=None)
        if user is None or not user.is_authenticated:
            return packs.filter(site)
        if user.is_superuser:
            return packs
        return packs.filter(site | Q(created_by=user) | Q(shared_with=user)).distinct()

    def managed_by(self, user):
        """Packs `user` may change: a superuser every pack; an instructor their own custom
        packs (built-in packs and packs without an instructor are the administrators')."""
        if user.is_superuser:
            return self
        return self.filter(builtin=False, created_by=user)

    def load_builtins(self):
        """Create or update the built-in packs from their generated files. Idempotent; an
        admin's choice to disable a built-in pack is kept. Returns [(pack, created)]."""
        from packs_app.builtin import BUILTIN_PACKS

        loaded = []
        for spec in BUILTIN_PACKS.values():
            pack, created = self.update_or_create(
                slug=spec.slug,
                defaults={
                    "title": spec.title,
                    "teaches": spec.teaches,
                    "text": spec.path.read_text(encoding="utf-8"),
                    "recommended_config": spec.recommended_config,
                    "adherence_pattern": spec.adherence_pattern,
                    "probe_line": spec.probe_line,
                    "probe_focus": spec.probe_focus,
                    "builtin": True,
                },
            )
            loaded.append((pack, created))
        return loaded


class Pack(models.Model):
    slug = models.SlugField(
        unique=True,
        verbose_name="short name",
        help_text="The pack's name in web addresses: lowercase letters, digits and hyphens.",
    )
    title = models.CharField(max_length=80, help_text="The name students see.")
    teaches = models.CharField(
        max_length=200, help_text="What it teaches, in one sentence students read."
    )
    text = models.TextField(
        help_text="The example text the model learns from, one example per line."
    )
    recommended_config = models.JSONField(
        default=dict,
        blank=True,
        verbose_name="recommended settings",
        help_text="The settings the new-run form starts from for this pack.",
    )
    adherence_pattern = models.CharField(
        max_length=500,
        blank=True,
        verbose_name="template",
        help_text="The shape every line has, written as a pattern; the lab counts how many "
        "samples keep to it. Empty: no template.",
    )
    probe_line = models.CharField(
        max_length=PROBE_MAX_CHARS,
        blank=True,
        help_text="A line the run page follows from the first step to the last, so a student "
        "watches one prediction improve. Best a line that follows the pattern but is not in "
        "the text (the model never trains on it). Empty: a line held out of training, picked "
        "by the run's seed.",
    )
    probe_focus = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        verbose_name="probe position",
        help_text="Which character of the probe line the run page shows first, counting from "
        "0: the page shows how well the model predicts that character from the ones before "
        "it. Empty: the character whose prediction improved most.",
    )
    builtin = models.BooleanField(
        default=False,
        verbose_name="built in",
        help_text="One of the lab's own packs: only site administrators may change it.",
    )
    enabled = models.BooleanField(
        default=True,
        help_text="Untick to stop offering the pack for new runs; runs already made stay.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text="The instructor who made this custom pack: only they (and administrators) "
        "may change it. Empty: a site pack, offered to every classroom.",
        verbose_name="made by",
    )
    shared_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="packs_shared_with_me",
        verbose_name="other instructors",
        help_text="Other instructors who may offer this pack in their classrooms too. "
        "Nobody else sees it unless you add them here.",
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="created")

    objects = PackQuerySet.as_manager()

    def may_change(self, user):
        return user.is_superuser or (not self.builtin and self.created_by_id == user.pk)

    def __str__(self):
        return self.title

    @property
    def ref(self):
        return self.slug

    @property
    def documents(self):
        return document_lines(self.text)

    @property
    def char_count(self):
        return len(self.text)


class UploadQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Uploads a user may train on: their own, and those shared with a classroom they
        belong to or teach."""
        if not user or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(
            Q(owners=user) | Q(shared_with__students=user) | Q(shared_with__instructor=user)
        ).distinct()

    def store(self, text, owner, name=""):
        """Keep one copy per owner of an already checked, preprocessed text: the same text
        uploaded again by its owner is the same upload; by anyone else, their own (with
        their own name and sharing), so an upload never reveals another owner's. Returns
        (upload, created)."""
        with transaction.atomic():
            upload, created = self.get_or_create(
                id=Upload.id_for(text, owner),
                defaults={"text": text, "name": name[:200], "created_by": owner},
            )
            if not created:
                upload.last_uploaded_at = timezone.now()
                upload.save(update_fields=["last_uploaded_at"])
            upload.owners.add(owner)
        log.info(
            "upload stored", extra={"upload_id": upload.id, "user_id": owner.pk, "new": created}
        )
        return upload, created


class Upload(models.Model):
    """A student's own text. The id is a hash of the owner and the preprocessed text, so
    the same text uploaded twice by one student is one stored copy, and two students'
    copies are two uploads that say nothing of each other. (Rows from before that rule may
    list several `owners`; packs_app migration 0005 split them.)"""

    ID_LENGTH = 20  # hex digits of the SHA-256 of the owner and the text

    id = models.CharField(
        primary_key=True,
        max_length=64,
        help_text="A fingerprint of the owner and the text: the same text uploaded again by "
        "the same student is the same upload.",
    )
    text = models.TextField(help_text="The uploaded text, tidied: one example per line.")
    owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="uploads",
        help_text="The student who uploaded it (may train on it, share it and delete it).",
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="first uploaded")
    name = models.CharField(
        max_length=200, blank=True, verbose_name="file name",
        help_text="The name of the file when it was first uploaded.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="uploaded by",
        help_text="Who uploaded it first.",
    )
    last_uploaded_at = models.DateTimeField(
        default=timezone.now,
        verbose_name="last uploaded",
        help_text="When this text was last uploaded; how long the lab keeps it counts from "
        "here.",
    )
    shared_with = models.ManyToManyField(
        "classrooms.Classroom",
        blank=True,
        related_name="shared_uploads",
        help_text="Classes whose students may train on it too.",
    )
    blocked_by = models.ForeignKey(
        "BlocklistEntry",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="blocked by term",
        help_text="A blocked word or phrase found in it after it was uploaded (the reason is "
        "below).",
    )
    blocked_reason = models.CharField(
        max_length=300,
        blank=True,
        verbose_name="why it is blocked",
        help_text="Why new runs on it are refused, as its owner reads it.",
    )

    objects = UploadQuerySet.as_manager()

    class Meta:
        ordering = ["-last_uploaded_at"]

    def __str__(self):
        return self.ref

    @classmethod
    def id_for(cls, text, owner):
        return id_for(text, owner.pk)

    @property
    def ref(self):
        return f"upload:{self.id}"

    @property
    def title(self):
        return self.name or self.ref

    @property
    def documents(self):
        return document_lines(self.text)

    @property
    def char_count(self):
        return len(self.text)

    @property
    def unique_chars(self):
        return len(set(self.text))

    @property
    def preview(self):
        return self.documents[:PREVIEW_LINES]

    def in_use(self):
        """Does any run (finished or not) train on it? Runs keep their upload."""
        return self.run_set.exists()  # runs.Run.upload's reverse accessor

    def refusal(self, instructor=None):
        """Why a new run on this text is refused ("" when it is not): a site-wide blocked
        term refuses it everywhere; an instructor's term, in `instructor`'s classrooms."""
        entry = self.blocked_by
        if entry is None or not entry.enabled:
            return ""
        if entry.owner_id is None or (instructor is not None and entry.owner_id == instructor.pk):
            return self.blocked_reason
        return ""

    def remove_owner(self, user):
        """`user` no longer keeps this text; the last owner leaving deletes it, unless a
        run still uses it (retention removes it later)."""
        self.owners.remove(user)
        if not self.owners.exists() and not self.in_use():
            self.delete()


def blocklist_view(text):
    """The text as the blocklist reads it, line by line (so line numbers still hold): HTML
    character references decoded (`&#x09;`, `&lt;`), Unicode NFKC-normalised (fullwidth
    and styled letters become plain ones), then format and control characters removed
    (zero-width spaces, bidirectional marks, NUL...; tabs become spaces). What is stored
    and trained on is the text as uploaded."""
    lines = []
    for line in text.split("\n"):
        line = unicodedata.normalize("NFKC", html.unescape(line))
        line = "".join(
            " " if char in "\t\n\r" else char
            for char in line
            if char in "\t\n\r" or unicodedata.category(char) not in ("Cc", "Cf")
        )
        lines.append(line)
    return "\n".join(lines)


class BlocklistQuerySet(models.QuerySet):
    def site_wide(self):
        return self.filter(owner=None)

    def for_instructor(self, user):
        """The terms that apply in `user`'s classrooms: site-wide ones and their own."""
        return self.filter(Q(owner=None) | Q(owner=user))

    def first_match(self, text):
        """(entry, line index) of the first enabled entry found in `text` as the blocklist
        reads it (blocklist_view, case-insensitive), or None."""
        seen = blocklist_view(text)
        for entry in self.filter(enabled=True).order_by("category", "id"):
            found = entry.search(seen)
            if found is not None:
                return entry, seen.count("\n", 0, found.start())
        return None


class BlocklistEntry(models.Model):
    class Category(models.TextChoices):
        SECRETS = "secrets", "secrets such as keys and tokens"
        INJECTION = "injection", "script or markup injection"
        DESTRUCTIVE = "destructive", "destructive commands"
        # An instructor's own term that fits none of the above: students are told only
        # that the text holds a blocked term, never a category nobody chose.
        OTHER = "other", "other: no category shown to students"

    category = models.CharField(
        max_length=20,
        choices=Category,
        default=Category.OTHER,
        help_text="What kind of text it blocks; a student whose text is refused is told this.",
    )
    pattern = models.CharField(
        max_length=300,
        verbose_name="blocked word or phrase",
        help_text="A word or phrase to refuse in texts (any spacing between its words "
        "matches), or a pattern if “pattern, not a phrase” is ticked.",
    )
    is_regex = models.BooleanField(
        default=False,
        verbose_name="pattern, not a phrase",
        help_text="Tick if the entry above is a regular expression (a pattern that matches "
        "many texts), not plain words.",
    )
    enabled = models.BooleanField(
        default=True, help_text="Untick to stop checking this entry without deleting it."
    )
    note = models.CharField(
        max_length=200, blank=True, help_text="For other instructors and administrators: why "
        "it is here."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="blocklist_terms",
        verbose_name="whose entry",
        help_text="Empty: a site-wide entry (administrators). An instructor: their own entry, "
        "applied to texts shared into their classrooms.",
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="added")

    objects = BlocklistQuerySet.as_manager()

    class Meta:
        verbose_name = "blocklist entry"
        verbose_name_plural = "blocklist entries"
        ordering = ["category", "pattern"]

    def __str__(self):
        return f"{self.get_category_display()}: {self.pattern}"

    def save(self, *args, **kwargs):
        """Saved (added, enabled or changed): re-check the uploads already stored."""
        from packs_app.recheck import recheck_uploads

        super().save(*args, **kwargs)
        recheck_uploads(self)

    def compiled(self):
        if self.is_regex:
            source = self.pattern
        else:  # words in order, any run of spaces or tabs between them, within one line
            source = r"[^\S\n]+".join(re.escape(word) for word in self.pattern.split())
        return re.compile(source, re.IGNORECASE)

    def search(self, text):
        """The first match in `text`, or None."""
        try:
            return self.compiled().search(text)
        except re.error:  # stored before validation existed: never crash an upload
            return None

    def matches(self, text):
        """Does `text`, as the blocklist reads it (blocklist_view), contain this entry?"""
        return self.search(blocklist_view(text)) is not None

    def clean(self):
        if not self.pattern.strip():
            raise ValidationError({"pattern": "The pattern cannot be blank."})
        if self.is_regex:
            try:
                compiled = self.compiled()
            except re.error as error:
                raise ValidationError(
                    {"pattern": f"Not a valid regular expression: {error}."}
                ) from None
            if compiled.search(""):
                raise ValidationError(
                    {"pattern": "This expression matches empty text, so it would block everything."}
                )
