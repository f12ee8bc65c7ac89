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


def test_a_benchmarks_processes_run_as_a_hosted_site_whatever_the_shells_debug():
    """production_env: what bench_run and load_site start their servers and workers with."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    shell = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    shell.update(DEBUG="1", SECRET_KEY="")  # a developer's shell, as `make bench` has
    env = workers.production_env(shell)
    assert env["SECRET_KEY"] != workers.production_env(shell)["SECRET_KEY"]  # fresh each time
    read = "from django.conf import settings as s; print(s.DEBUG, s.SECRET_KEY == {key!r})"
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", read.format(key=env["SECRET_KEY"])],
        cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr  # a key the settings' strength check accepts
    assert out.stdout.splitlines()[-1].split() == ["False", "True"]  # after the auto-imports line
