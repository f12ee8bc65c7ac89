"""A blocked term added after texts were uploaded: find the uploads it matches and act.

recheck_uploads(entry) runs whenever a term is added, enabled or changed (BlocklistEntry.save):
a matching upload is unshared from the classrooms the term covers (every classroom for a
site-wide term; the instructor's own for theirs), marked with the reason (Upload.blocked_by,
blocked_reason; new runs on it are then refused, see Upload.refusal), and each owner is told.

share_refusal(upload, classroom) is the same rule for sharing afterwards.
"""

import logging

import notices
from packs_app.models import Upload, blocklist_view
from packs_app.validation import blocked_message

log = logging.getLogger(__name__)


def line_of(entry, text):
    """The line number (from 1) of `entry`'s first match in a stored text, read as the
    blocklist reads it (blocklist_view); None when it does not match."""
    seen = blocklist_view(text)
    match = entry.search(seen)
    return None if match is None else seen.count("\n", 0, match.start()) + 1


def reason_for(entry, line):
    where = "" if entry.owner_id is None else f" for {entry.owner.username}'s classrooms"
    return blocked_message(entry, line).replace(
        "Remove it and try again.", f"It is blocked{where}; remove it and upload the text again."
    )


def recheck_uploads(entry):
    """Apply `entry` to the uploads already stored. Returns the uploads it blocked."""
    if not entry.enabled:
        return []
    uploads = Upload.objects.all()
    if entry.owner_id is not None:  # an instructor's term covers their classrooms only
        uploads = uploads.filter(shared_with__instructor=entry.owner_id).distinct()
    blocked = []
    for upload in uploads.prefetch_related("owners"):
        line = line_of(entry, upload.text)
        if line is None:
            continue
        reason = reason_for(entry, line)
        classrooms = upload.shared_with.all()
        if entry.owner_id is not None:
            classrooms = classrooms.filter(instructor=entry.owner_id)
        names = [c.name for c in classrooms]
        upload.shared_with.remove(*classrooms)
        upload.blocked_by, upload.blocked_reason = entry, reason[:300]
        upload.save(update_fields=["blocked_by", "blocked_reason"])
        unshared = f" It is no longer shared with {', '.join(names)}." if names else ""
        for owner in upload.owners.all():
            notices.tell(
                owner,
                f"Your upload {upload.title}: {reason}{unshared} New runs on it are refused.",
            )
        log.info(
            "upload blocked after a new term",
            extra={"upload_id": upload.id, "entry_id": entry.pk, "unshared": len(names)},
        )
        blocked.append(upload)
    return blocked


def share_refusal(upload, classroom):
    """Why `upload` may not be shared into `classroom` ("" when it may): a site-wide or
    the classroom instructor's own term matches it."""
    from packs_app.models import BlocklistEntry

    terms = BlocklistEntry.objects.for_instructor(classroom.instructor).filter(enabled=True)
    for entry in terms.order_by("category", "id"):
        line = line_of(entry, upload.text)
        if line is not None:
            return reason_for(entry, line)
    return ""
