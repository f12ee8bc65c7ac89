from django.conf import settings
from django.db import models
from django.utils import timezone


class NoticeQuerySet(models.QuerySet):
    def take_unread(self, user):
        """The user's unread notices, oldest first, marked read as they are taken."""
        if not user.is_authenticated:
            return []
        notices = list(self.filter(user=user, read_at=None).order_by("created_at", "pk"))
        if notices:
            self.filter(pk__in=[n.pk for n in notices]).update(read_at=timezone.now())
        return notices


class Notice(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notices",
        verbose_name="for",
        help_text="Who is told.",
    )
    text = models.CharField(max_length=500, help_text="What they read, in one sentence.")
    url = models.CharField(
        max_length=300, blank=True, verbose_name="link",
        help_text="The page the message points to (optional).",
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="sent")
    read_at = models.DateTimeField(
        null=True, blank=True, verbose_name="seen", help_text="When it was shown to them. "
        "Empty: not seen yet.",
    )

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_unread")]

    def __str__(self):
        return f"to {self.user}: {self.text}"
