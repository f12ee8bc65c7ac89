"""The lesson funnel: how far a classroom's students got, as counts, no personal data.

joined -> started a first run -> a run completed -> opened the op-level view -> uploaded
their own text. The first three (and uploads) come from rows the lab already stores
(memberships, runs, uploads); what leaves no other trace any app records with
`common.funnel.record(user, stage)`, and `store` (connected in classrooms/apps.py) keeps it
here, once per user and stage.
"""

import logging

from django.db import IntegrityError, transaction

from classrooms.models import FunnelEvent, Membership
from packs_app.models import Upload
from runs.models import Run

log = logging.getLogger(__name__)

OPENED_OP_VIEW = FunnelEvent.Stage.OPENED_OP_VIEW
UPLOADED_TEXT = FunnelEvent.Stage.UPLOADED_TEXT  # the same strings as common.funnel's


def store(sender, user, stage, **kwargs):
    """Receiver of common.funnel.stage_reached: note that `user` reached `stage`
    (idempotent; never breaks the caller's request)."""
    stage = FunnelEvent.Stage(stage)
    try:
        with transaction.atomic():
            FunnelEvent.objects.get_or_create(user=user, stage=stage)
    except IntegrityError:  # a concurrent request recorded it first
        pass
    except Exception:  # the funnel is never worth a failed page
        log.exception("funnel record failed", extra={"stage": str(stage)})


def counts(classroom):
    """[(label, count), ...] in funnel order for the classroom's current students."""
    students = Membership.objects.filter(classroom=classroom).values("student_id")
    runs = Run.objects.filter(owner__in=students)
    events = FunnelEvent.objects.filter(user__in=students)
    uploaders = set(Upload.objects.filter(owners__in=students).values_list("owners", flat=True))
    uploaders &= set(students.values_list("student_id", flat=True))
    uploaders |= set(events.filter(stage=UPLOADED_TEXT).values_list("user_id", flat=True))
    return [
        ("joined", students.count()),
        ("started a first run", runs.values("owner").distinct().count()),
        (
            "a run completed",
            runs.filter(status=Run.Status.COMPLETED).values("owner").distinct().count(),
        ),
        (
            "opened the op-level view",
            events.filter(stage=OPENED_OP_VIEW).values("user").distinct().count(),
        ),
        ("uploaded their own text", len(uploaders)),
    ]
