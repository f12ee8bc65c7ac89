"""A lesson's worth of load on one machine in production mode.

30 students (by default) in one classroom each start a run at the classroom's default
config within a few seconds, through daphne's real new-run form; 2 Celery worker
processes train them; meanwhile the instructor's panel is fetched over and over. Prints
how long until all runs finished, the longest queue wait, whether every run has exactly
one terminal event, and the panel's p95 page time. Last line:

    students=30 all_done_s=… max_wait_s=… terminal_ok=true|false panel_p95_ms=…

Needs DATABASE_URL (PostgreSQL) and REDIS_URL; it starts daphne and the workers itself and
stops them at the end. Its accounts and runs are deleted afterwards unless --keep.
"""

import secrets
import statistics
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q

from classrooms.loadlab import Lab, LiveSocket, free_port, panel_cpu, percentile
from classrooms.management.commands.load_site import cost_line
from classrooms.models import Classroom
from common.roles import make_instructor
from packs_app.models import Pack
from runs.forms import NewRunForm
from runs.models import TERMINAL_KINDS, Run

PANEL_TARGET_MS = 500


class Command(BaseCommand):
    help = "Load check: a classroom of students start runs at once; prints the figures."

    def add_arguments(self, parser):
        parser.add_argument("--students", type=int, default=30)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--pack", default="arithmetic", help="pack slug of the lesson")
        parser.add_argument("--timeout", type=float, default=900, help="seconds to wait")
        parser.add_argument(
            "--panel-interval",
            type=float,
            default=0.2,
            help="seconds between the instructor's panel loads",
        )
        parser.add_argument("--keep", action="store_true", help="keep the accounts and runs")

    def handle(self, *args, students, workers, pack, timeout, panel_interval, keep, **options):
        if not (settings.DATABASE_URL and settings.REDIS_URL):
            raise CommandError(
                "load_classroom runs in production mode: set DATABASE_URL "
                "(PostgreSQL) and REDIS_URL."
            )
        call_command("migrate", verbosity=0, interactive=False)
        if not Pack.objects.filter(slug=pack).exists():
            call_command("load_packs", verbosity=0)
        lesson_pack = Pack.objects.filter(slug=pack, enabled=True).first()
        if lesson_pack is None:
            raise CommandError(f"no enabled pack {pack!r}")

        tag = f"load{secrets.token_hex(3)}"
        instructor, classroom, people = self.set_up(tag, students, lesson_pack)
        log_dir = Path(settings.DATA_DIR) / "load_classroom"
        log_dir.mkdir(parents=True, exist_ok=True)
        lab = Lab(free_port(), workers, log_dir, production=True)
        self.stdout.write(
            f"classroom {classroom.pk} ({tag}): {students} students, pack "
            f"{lesson_pack.slug}, {workers} worker processes, logs in {log_dir}"
        )
        figures = None
        try:
            lab.start()
            lab.wait_healthy()
            figures = self.measure(
                lab, instructor, classroom, people, lesson_pack, timeout, panel_interval
            )
        finally:
            lab.stop()
            try:
                if figures is not None:  # what a load costs, whatever the load was
                    figures["panel_cpu"] = panel_cpu(classroom, instructor)
            finally:
                if not keep:
                    self.tear_down(tag, classroom)
        self.report(students, figures)

    # --- set-up ----------------------------------------------------------------------

    def set_up(self, tag, count, pack):
        User = get_user_model()
        instructor = User.objects.create_user(f"{tag}-instructor")
        make_instructor(instructor)
        classroom = Classroom.objects.create(name=f"Load check {tag}", instructor=instructor)
        classroom.offered_packs.set([pack])
        people = []
        for i in range(count):
            student = User.objects.create_user(f"{tag}-student{i + 1:02d}")  # no password
            classroom.join(student)
            people.append(student)
        return instructor, classroom, people

    def tear_down(self, tag, classroom):
        User = get_user_model()
        users = User.objects.filter(username__startswith=f"{tag}-")
        Run.objects.filter(owner__in=users).delete()
        classroom.delete()
        users.delete()

    # --- the lesson ----------------------------------------------------------------------

    def measure(self, lab, instructor, classroom, people, pack, timeout, panel_interval):
        panel_cookie, _ = lab.session_cookie(instructor)
        forms = []
        for student in people:
            initial, _ = NewRunForm.initial_for(student, pack.slug, classroom)
            body = urllib.parse.urlencode({**initial, "classroom": classroom.pk})
            forms.append((lab.session_cookie(student), body))

        panel_ms, stop_panel = [], threading.Event()
        panel_errors = []

        def load_panel_until_done():
            path = f"/classrooms/{classroom.pk}/"
            while not stop_panel.is_set():
                started = time.perf_counter()
                status, _ = lab.request("GET", path, cookies=panel_cookie)
                panel_ms.append(1000 * (time.perf_counter() - started))
                if status != 200:
                    panel_errors.append(status)
                stop_panel.wait(panel_interval)

        panel = threading.Thread(target=load_panel_until_done, daemon=True)
        host, port = lab.url.split(":")
        live = LiveSocket(host, int(port), f"/ws/classrooms/{classroom.pk}/", panel_cookie)
        live.start()
        began = time.monotonic()
        panel.start()
        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(lab.start_run, forms))
        submitted_s = time.monotonic() - began
        refused = [(status, text[:200]) for status, text in answers if status != 302]
        if refused:
            stop_panel.set()
            raise CommandError(f"{len(refused)} runs were not started, e.g. {refused[0]}")
        self.stdout.write(f"{len(answers)} runs started through /runs/new/ in {submitted_s:.1f} s")

        runs = Run.objects.filter(owner__in=people)
        deadline = began + timeout
        last_report = 0.0
        while time.monotonic() < deadline:
            active = runs.filter(status__in=(Run.Status.QUEUED, Run.Status.RUNNING)).count()
            if active == 0:
                break
            if time.monotonic() - last_report > 10:
                last_report = time.monotonic()
                self.stdout.write(
                    f"  {time.monotonic() - began:5.1f} s: {active} runs active, "
                    f"panel p95 so far {percentile(panel_ms, 0.95):.0f} ms"
                )
            time.sleep(0.25)
        all_done_s = time.monotonic() - began
        stop_panel.set()
        panel.join(timeout=35)
        time.sleep(1)  # the last pushes after the last terminal event
        live.close()

        finished = list(
            runs.annotate(
                terminal=Count("events", filter=Q(events__kind__in=TERMINAL_KINDS))
            ).values("pk", "status", "created_at", "started_at", "finished_at", "terminal")
        )
        waits = [
            (r["started_at"] - r["created_at"]).total_seconds() for r in finished if r["started_at"]
        ]
        by_status = {}
        for r in finished:
            by_status[r["status"]] = by_status.get(r["status"], 0) + 1
        terminal_ok = len(finished) == len(people) and all(
            r["terminal"] == 1 and r["status"] in ("completed", "failed", "canceled")
            for r in finished
        )
        return {
            "submitted_s": submitted_s,
            "all_done_s": all_done_s,
            "max_wait_s": max(waits) if waits else float("nan"),
            "terminal_ok": terminal_ok,
            "by_status": by_status,
            "panel_ms": panel_ms,
            "panel_errors": panel_errors,
            "timed_out": any(r["status"] in ("queued", "running") for r in finished),
            "live_pushes": len(live.pushes),
            "live_kb": live.bytes / 1024,
            "live_error": live.error,
        }

    def report(self, students, f):
        panel = f["panel_ms"]
        p95 = percentile(panel, 0.95)
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(f["by_status"].items()))
        self.stdout.write(f"runs: {statuses}{' (timed out)' if f['timed_out'] else ''}")
        self.stdout.write(
            f"all {students} started within {f['submitted_s']:.1f} s; all done "
            f"after {f['all_done_s']:.1f} s; longest queue wait "
            f"{f['max_wait_s']:.1f} s"
        )
        if panel:
            self.stdout.write(
                f"instructor panel: {len(panel)} loads while training, median "
                f"{statistics.median(panel):.0f} ms, p95 {p95:.0f} ms, max {max(panel):.0f} ms "
                f"(target <= {PANEL_TARGET_MS} ms), non-200: {len(f['panel_errors'])}"
            )
        self.stdout.write(
            f"panel socket: {f['live_pushes']} pushes ({f['live_kb']:.0f} KB) while training"
            + (f", error {f['live_error']!r}" if f["live_error"] else "")
        )
        self.stdout.write(cost_line(f["panel_cpu"], None))
        self.stdout.write(
            f"students={students} all_done_s={f['all_done_s']:.1f} "
            f"max_wait_s={f['max_wait_s']:.1f} "
            f"terminal_ok={'true' if f['terminal_ok'] else 'false'} panel_p95_ms={p95:.0f}"
        )
