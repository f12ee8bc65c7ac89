"""Tell an open instructor panel when a student joins, leaves or starts a run, so it
watches the new run at once (the training worker only wakes the run's own group); and tell
the sockets whose access a student's leaving may end to check it now."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from classrooms.live import notify
from classrooms.models import Membership
from common.sockets import hint_access_changed, user_group
from runs.models import Run, run_group


def notify_after_commit(classroom_ids, change="runs"):
    for classroom_id in set(classroom_ids):
        transaction.on_commit(lambda cid=classroom_id: notify(cid, change))


@receiver(post_save, sender="runs.Run", dispatch_uid="classrooms_run_created")
def run_created(sender, instance, created, **kwargs):
    if created:
        ids = Membership.objects.filter(student_id=instance.owner_id).values_list(
            "classroom_id", flat=True
        )
        notify_after_commit(ids)


@receiver(post_save, sender=Membership, dispatch_uid="classrooms_member_joined")
@receiver(post_delete, sender=Membership, dispatch_uid="classrooms_member_left")
def membership_changed(sender, instance, **kwargs):
    notify_after_commit([instance.classroom_id])


@receiver(post_delete, sender=Membership, dispatch_uid="classrooms_member_access")
def member_left(sender, instance, **kwargs):
    """The student loses their classmates' shared runs and the classroom's pages; the
    instructor and classmates lose the student's runs: every such socket checks again."""
    student_id = instance.student_id
    run_ids = list(Run.objects.filter(owner_id=student_id).values_list("pk", flat=True))
    groups = [user_group(student_id), *(run_group(run_id) for run_id in run_ids)]
    transaction.on_commit(lambda: hint_access_changed(groups))
