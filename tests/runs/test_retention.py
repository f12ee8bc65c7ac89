from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from packs_app.models import Upload
from runs import tasks
from runs.models import Run
from runs.retention import purge_expired

pytestmark = pytest.mark.django_db
OLD = timedelta(days=settings.LAB_RETENTION_DAYS + 1)
RECENT = timedelta(days=settings.LAB_RETENTION_DAYS - 1)


def make_upload(owner, text, age):
    upload, _ = Upload.objects.store(text, owner)
    Upload.objects.filter(id=upload.id).update(last_uploaded_at=timezone.now() - age)
    return upload


def make_run(owner, status, age, upload=None):
    run = Run.objects.create(owner=owner, upload=upload, config={}, status=status)
    Run.objects.filter(id=run.id).update(created_at=timezone.now() - age)
    return run


def test_purge_expired(student):
    old_unused = make_upload(student, "old unused", OLD)
    recent = make_upload(student, "recent", RECENT)
    old_live = make_upload(student, "old, used by a live run", OLD)
    old_recent_run = make_upload(student, "old, used by a recent run", OLD)
    old_old_run = make_upload(student, "old, used by an old finished run", OLD)

    done_old = make_run(student, Run.Status.COMPLETED, OLD, old_old_run)
    failed_old = make_run(student, Run.Status.FAILED, OLD)
    canceled_old = make_run(student, Run.Status.CANCELED, OLD)
    running_old = make_run(student, Run.Status.RUNNING, OLD, old_live)
    queued_old = make_run(student, Run.Status.QUEUED, OLD)
    done_recent = make_run(student, Run.Status.COMPLETED, RECENT, old_recent_run)

    assert purge_expired() == {"runs": 3, "uploads": 2}
    remaining_runs = set(Run.objects.values_list("id", flat=True))
    assert remaining_runs == {running_old.id, queued_old.id, done_recent.id}
    assert not {done_old.id, failed_old.id, canceled_old.id} & remaining_runs
    assert set(Upload.objects.values_list("id", flat=True)) == {
        recent.id,
        old_live.id,
        old_recent_run.id,
    }
    assert old_unused.id and old_old_run.id  # both gone
    assert purge_expired() == {"runs": 0, "uploads": 0}


def test_uploading_again_renews_an_upload(student, classmate):
    upload = make_upload(student, "renewed", OLD)
    Upload.objects.store("renewed", student)
    old = make_upload(classmate, "not theirs to renew", OLD)
    Upload.objects.store("not theirs to renew", student)  # a copy of the student's own
    assert purge_expired()["uploads"] == 1
    assert Upload.objects.filter(id=upload.id).exists()
    assert not Upload.objects.filter(id=old.id).exists()


def test_command_and_days_option(student, capsys):
    make_upload(student, "ten days old", timedelta(days=10))
    call_command("purge_expired")
    assert "deleted 0 runs and 0 uploads" in capsys.readouterr().out
    call_command("purge_expired", "--days", "7")
    assert "deleted 0 runs and 1 uploads" in capsys.readouterr().out
    assert not Upload.objects.exists()


def test_periodic_task(student):
    make_upload(student, "old", OLD)
    assert tasks.purge_expired.delay is not None
    assert tasks.purge_expired() == {"runs": 0, "uploads": 1}
    schedule = settings.CELERY_BEAT_SCHEDULE["purge-expired-runs-and-uploads"]
    assert schedule["task"] == tasks.purge_expired.name == "runs.tasks.purge_expired"
