"""The keeper's periodic chores: embedded mode runs what `celery beat` runs in production."""

from runs import workers
from runs.tasks import purge_expired
from runs.workers import Keeper, beat_chores


def test_the_beat_schedule_becomes_the_embedded_keepers_chores(settings):
    assert beat_chores() == [(6 * 60 * 60, purge_expired)]


def test_a_chore_runs_on_start_then_every_interval(monkeypatch):
    clock, calls = [1000.0], []
    monkeypatch.setattr(workers.time, "monotonic", lambda: clock[0])
    keeper = Keeper("test-node", "embedded", chores=[(60, lambda: calls.append(clock[0]))])
    keeper.do_chores_due()
    clock[0] += 59
    keeper.do_chores_due()
    clock[0] += 1
    keeper.do_chores_due()
    assert calls == [1000.0, 1060.0]


def test_the_purge_chore_really_purges(db, settings, student):
    from datetime import timedelta

    from django.utils import timezone

    from packs_app.models import Upload

    upload, _ = Upload.objects.store("old text", student, "old.txt")
    Upload.objects.filter(pk=upload.pk).update(
        last_uploaded_at=timezone.now() - timedelta(days=settings.LAB_RETENTION_DAYS + 1),
        created_at=timezone.now() - timedelta(days=settings.LAB_RETENTION_DAYS + 1),
    )
    Keeper("test-node", "embedded", chores=beat_chores()).do_chores_due()
    assert not Upload.objects.filter(pk=upload.pk).exists()
