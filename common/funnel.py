"""The lesson funnel's events, recorded from any app: `record(user, OPENED_OP_VIEW)`.

Recording sends `stage_reached`; the classroom layer stores it (classrooms/funnel.py) and
counts how far a classroom's students got. Recording never breaks the caller's request.
"""

from django.dispatch import Signal

OPENED_OP_VIEW = "opened_op_view"
UPLOADED_TEXT = "uploaded_text"
STAGES = (OPENED_OP_VIEW, UPLOADED_TEXT)

# sent with user=..., stage=... ; receivers must not raise
stage_reached = Signal()


def record(user, stage):
    """Note that `user` reached `stage` (idempotent in the store; anonymous users are skipped)."""
    if stage not in STAGES:
        raise ValueError(f"unknown funnel stage {stage!r}")
    if getattr(user, "is_authenticated", False):
        stage_reached.send(sender=None, user=user, stage=stage)
