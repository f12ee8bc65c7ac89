"""Age limit for runs and uploads (settings.LAB_RETENTION_DAYS), enforced by
`manage.py purge_expired` and the periodic Celery task `runs.tasks.purge_expired`."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.utils import timezone

from packs_app.models import Upload
from runs.models import Run

log = logging.getLogger(__name__)


def cutoff(now=None, days=None):
    days = settings.LAB_RETENTION_DAYS if days is None else days
    return (now or timezone.now()) - timedelta(days=days)


def purge_expired(now=None, days=None):
    """Delete finished runs created before the cutoff, then uploads last uploaded before it
    that no remaining run uses (a live run's upload is never touched). Returns counts."""
    limit = cutoff(now, days)
    finished = [Run.Status.COMPLETED, Run.Status.FAILED, Run.Status.CANCELED]
    runs = Run.objects.filter(created_at__lt=limit, status__in=finished)
    run_count = runs.count()
    runs.delete()
    used = Run.objects.filter(upload=OuterRef("pk"))
    uploads = Upload.objects.filter(last_uploaded_at__lt=limit).exclude(Exists(used))
    upload_ids = list(uploads.values_list("id", flat=True))
    Upload.objects.filter(id__in=upload_ids).delete()
    counts = {"runs": run_count, "uploads": len(upload_ids)}
    log.info("purged expired runs and uploads", extra={"cutoff": limit.isoformat(), **counts})
    return counts
