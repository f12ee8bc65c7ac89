"""Tell an open instructor panel when a student joins, leaves or starts a run, so it
watches the new run at once (the training worker only wakes the run's own group)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from classrooms.live import notify
from classrooms.models import Membership


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
