"""`manage.py load_site`: a busy site on one machine, in production mode.

3 classrooms × 30 students (by default) each submit up to 3 runs at the pack's recommended
config in a burst, through daphne's real new-run form; then one student of a 4th classroom
submits a single run. 2 Celery worker processes train them; one is killed with SIGKILL
mid-way (with its training child) and started again, so the run it held must resume on
a worker. Meanwhile 100 websocket viewers watch one run, and the first classroom's
instructor loads the panel over and over. Prints the figures; the last line is

    runs=… all_completed=true|false terminal_ok=true|false lone_wait_s=… resumed=…
    panel_p95_ms=… fanout_viewers=… fanout_p95_ms=…

lone_wait_s: from the lone student's submission to a worker taking the run (fair share:
one run's time per worker at most). fanout_p95_ms: from a step being stored to a viewer
receiving the push that shows it, over every viewer and push of the watched run.

Needs DATABASE_URL (PostgreSQL) and REDIS_URL; it starts daphne and the workers itself and
stops them at the end. Its accounts and runs are deleted afterwards unless --keep.
"""

import math
import re
import secrets
import statistics
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, F, Q

from classrooms.loadlab import (
    Lab,
    LiveSocket,
    audience_figures,
    cores_used,
    free_port,
    machine_busy_seconds,
    panel_cpu,
    percentile,
    trained_figures,
)
from classrooms.models import Classroom
from common.roles import make_instructor
from packs_app.models import Pack
from runs.forms import NewRunForm
from runs.models import TERMINAL_KINDS, Kind, Run, RunEvent

CURRENT_STEP = re.compile(r'id="run-current-step">(\d+)<')


class Command(BaseCommand):
    help = "Load check of the whole site: classrooms' bursts, a lone student, a killed worker."

    def add_arguments(self, parser):
        parser.add_argument("--classrooms", type=int, default=3, help="classrooms in the burst")
        parser.add_argument("--students", type=int, default=30, help="students per classroom")
        parser.add_argument("--runs-each", type=int, default=3, help="runs per student")
        parser.add_argument("--viewers", type=int, default=100, help="sockets on one run")
        parser.add_argument(
            "--workers", type=int, default=2,
            help="Celery worker processes (each trains one run at a time; one is killed)",
        )
        parser.add_argument("--pack", default="arithmetic")
        parser.add_argument("--steps", type=int, default=None, help="override num_steps")
        parser.add_argument(
            "--stale-seconds",
            type=int,
            default=10,
            help="the workers' heartbeat window: how soon a lost worker's run resumes",
        )
        parser.add_argument(
            "--web-processes", type=int, default=2,
            help="server (daphne) processes sharing the port, as deploy/supervisord.conf runs",
        )
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait")
        parser.add_argument("--keep", action="store_true", help="keep the accounts and runs")

    def handle(self, *args, **options):
        if not (settings.DATABASE_URL and settings.REDIS_URL):
            raise CommandError(
                "load_site runs in production mode: set DATABASE_URL (PostgreSQL) and REDIS_URL."
            )
        call_command("migrate", verbosity=0, interactive=False)
        if not Pack.objects.filter(slug=options["pack"]).exists():
            call_command("load_packs", verbosity=0)
        pack = Pack.objects.filter(slug=options["pack"], enabled=True).first()
        if pack is None:
            raise CommandError(f"no enabled pack {options['pack']!r}")
        if Run.objects.active().exists():
            raise CommandError("runs are queued or running here: load_site needs an idle site")

        tag = f"site{secrets.token_hex(3)}"
        rooms = self.set_up(tag, options["classrooms"] + 1, options["students"], pack)
        log_dir = Path(settings.DATA_DIR) / "load_site"
        log_dir.mkdir(parents=True, exist_ok=True)
        server_env = {"LAB_HEARTBEAT_STALE_SECONDS": str(options["stale_seconds"])}
        # the viewers are the first class's people (its instructor and students), each with a
        # share of the sockets; a small class may need more than a person may open
        per_person = math.ceil(options["viewers"] / (1 + options["students"])) + 2
        if per_person > settings.LAB_MAX_SOCKETS_PER_USER:
            server_env["LAB_MAX_SOCKETS_PER_USER"] = str(per_person)
            self.stdout.write(
                f"{options['viewers']} viewers among {1 + options['students']} people: the "
                f"servers let a person open {per_person} sockets for this check "
                f"(LAB_MAX_SOCKETS_PER_USER is {settings.LAB_MAX_SOCKETS_PER_USER})"
            )
        lab = Lab(
            free_port(), options["workers"], log_dir, env=server_env, production=True,
            web_processes=options["web_processes"],
        )
        self.stdout.write(
            f"{options['classrooms']} classrooms × {options['students']} students × up to "
            f"{options['runs_each']} runs, then 1 lone student; pack {pack.slug}; "
            f"{options['workers']} worker processes; {options['viewers']} viewers; "
            f"logs in {log_dir}"
        )
        figures = None
        try:
            lab.start()
            lab.wait_healthy()
            figures = self.measure(lab, rooms, pack, options, tag)
        finally:
            lab.stop()
            try:
                if figures is not None:  # what a render costs, whatever the load was
                    room, teacher, _ = rooms[0]
                    figures["panel_cpu"] = panel_cpu(room, teacher)
                    figures["audience"] = audience_figures(
                        lab.server_logs(), figures["watched_pk"]
                    )
                    figures["training"] = training_figures(
                        trained_figures(lab.worker_logs()), figures["watched_pk"],
                        figures["peer_ids"],
                    )
            finally:
                if not options["keep"]:
                    self.tear_down(tag, rooms)
        self.report(figures)

    # --- set-up ----------------------------------------------------------------------

    def set_up(self, tag, count, students, pack):
        """`count` classrooms, each with an instructor and `students` students (the last
        classroom: one student, the lone one)."""
        User = get_user_model()
        rooms = []
        for r in range(count):
            instructor = User.objects.create_user(f"{tag}-teacher{r + 1}")  # no password
            make_instructor(instructor)
            room = Classroom.objects.create(name=f"Load {tag} {r + 1}", instructor=instructor)
            room.offered_packs.set([pack])
            people = []
            for i in range(students if r < count - 1 else 1):
                student = User.objects.create_user(f"{tag}-c{r + 1}s{i + 1:02d}")
                room.join(student)
                people.append(student)
            rooms.append((room, instructor, people))
        return rooms

    def tear_down(self, tag, rooms):
        users = get_user_model().objects.filter(username__startswith=f"{tag}-")
        Run.objects.filter(owner__in=users).delete()
        for room, _, _ in rooms:
            room.delete()
        users.delete()

    # --- the load ----------------------------------------------------------------------

    def measure(self, lab, rooms, pack, options, tag):
        host, port = lab.url.split(":")
        cookies = {}

        def form(student, room):
            if student.pk not in cookies:
                cookies[student.pk] = lab.session_cookie(student)
            initial, _ = NewRunForm.initial_for(student, pack.slug, room)
            if options["steps"]:
                initial["num_steps"] = options["steps"]
            return cookies[student.pk], urllib.parse.urlencode({**initial, "classroom": room.pk})

        burst_rooms, (lone_room, _, [lone]) = rooms[:-1], rooms[-1]
        burst = [
            form(student, room)
            for room, _, people in burst_rooms
            for student in people
            for _ in range(options["runs_each"])
        ]
        lone_form = form(lone, lone_room)

        # the first classroom's instructor keeps loading the panel
        first_room, first_teacher, first_people = burst_rooms[0]
        panel_cookie, _ = lab.session_cookie(first_teacher)
        panel_ms, panel_errors, stop = [], [], threading.Event()

        def load_panel():
            while not stop.is_set():
                started = time.perf_counter()
                path = f"/classrooms/{first_room.pk}/"
                status, _ = lab.request("GET", path, cookies=panel_cookie)
                panel_ms.append(1000 * (time.perf_counter() - started))
                if status != 200:
                    panel_errors.append(status)
                stop.wait(0.2)

        # where the machine's CPU goes, sampled every 0.2 s: training (the workers), the
        # server processes, this load check itself (its viewers' sockets, the panel loads),
        # and the rest (PostgreSQL, Redis, the system)
        cpu_samples = []

        def sample_cpu():
            while not stop.is_set():
                seconds = {**lab.cpu_seconds(), "load check": time.process_time()}
                seconds["the rest"] = machine_busy_seconds() - sum(seconds.values())
                cpu_samples.append((time.time(), seconds))
                stop.wait(0.2)

        panel = threading.Thread(target=load_panel, daemon=True)
        sampler = threading.Thread(target=sample_cpu, daemon=True)
        began = time.monotonic()
        panel.start()
        sampler.start()
        with ThreadPoolExecutor(max_workers=10) as pool:
            answers = list(pool.map(lab.start_run, burst))
        refused = [(status, text[:200]) for status, text in answers if status != 302]
        if refused:
            stop.set()
            raise CommandError(f"{len(refused)} runs were not started, e.g. {refused[0]}")
        status, text = lab.start_run(lone_form)
        if status != 302:
            stop.set()
            raise CommandError(f"the lone run was not started: {status} {text[:200]}")
        lone_run = Run.objects.filter(owner=lone).get()
        self.stdout.write(
            f"{len(answers)} runs submitted in a burst, then the lone run, in "
            f"{time.monotonic() - began:.1f} s"
        )

        # 100 viewers on one run of the first classroom: its first student's second run,
        # shared with the class (the class and its instructor follow it)
        mine = Run.objects.filter(owner=first_people[0]).order_by("created_at")
        watched = mine[min(1, mine.count() - 1)]
        watchers = [first_teacher, *first_people]
        viewers = []
        for i in range(options["viewers"]):
            person = watchers[i % len(watchers)]
            if person.pk not in cookies:
                cookies[person.pk] = lab.session_cookie(person)
            viewer = LiveSocket(host, int(port), f"/ws/runs/{watched.pk}/", cookies[person.pk][0])
            viewer.start()
            viewers.append(viewer)
            time.sleep(0.05)  # a class opening the page over a few seconds, not all at once
        for viewer in viewers:
            viewer.opened.wait(30)
        opened = sum(1 for viewer in viewers if viewer.handshake == 101)
        self.stdout.write(f"{opened} of {len(viewers)} viewers connected to run {watched.pk}")

        everyone = Run.objects.filter(owner__username__startswith=f"{tag}-")
        total = everyone.count()
        deadline = began + options["timeout"]
        killed = False
        last_report = 0.0
        while time.monotonic() < deadline:
            finished = everyone.exclude(status__in=(Run.Status.QUEUED, Run.Status.RUNNING)).count()
            if finished == total:
                break
            # half-way, worker 1 is killed in the middle of a run (one it has trained some
            # steps of), which must then resume on a worker
            half_way = not killed and finished >= total // 2
            busy = self.run_of_worker(lab, 1, everyone) if half_way else None
            if busy is not None:
                lab.kill_worker(1)
                lab.start_worker(1)
                killed = True
                self.stdout.write(
                    f"  {time.monotonic() - began:5.1f} s: worker 1 killed with SIGKILL at "
                    f"step {busy.current_step} of run {busy.pk}, and started again "
                    f"({finished} of {total} runs done)"
                )
            if time.monotonic() - last_report > 15:
                last_report = time.monotonic()
                self.stdout.write(
                    f"  {time.monotonic() - began:5.1f} s: {finished} of {total} runs done, "
                    f"panel p95 so far {percentile(panel_ms, 0.95):.0f} ms"
                )
            time.sleep(0.5 if killed or finished < total // 2 else 0.05)
        all_done_s = time.monotonic() - began
        stop.set()
        panel.join(timeout=35)
        sampler.join(timeout=5)
        time.sleep(1)  # the last pushes
        for viewer in viewers:
            viewer.close()
        time.sleep(2)  # the server sees them go; the run's audience logs what it cost

        return {
            **self.run_figures(everyone, lone_run),
            **self.fanout_figures(watched, viewers),
            **self.cpu_figures(watched, cpu_samples),
            "all_done_s": all_done_s,
            "panel_ms": panel_ms,
            "panel_errors": panel_errors,
            "killed": killed,
        }

    def run_of_worker(self, lab, number, everyone):
        """The run worker `number` is training now, a tenth of the way in or more (a run's
        `worker` is the training process's host:pid), or None."""
        pids = {str(pid) for pid in lab.worker_pids(number)}
        mid_way = everyone.filter(
            status=Run.Status.RUNNING, current_step__gte=F("num_steps") / 10
        )
        for run in mid_way:
            if run.worker.rpartition(":")[2] in pids:
                return run
        return None

    def run_figures(self, everyone, lone_run):
        rows = list(
            everyone.annotate(
                terminal=Count("events", filter=Q(events__kind__in=TERMINAL_KINDS))
            ).values(
                "pk", "status", "created_at", "started_at", "claimed_at", "finished_at",
                "terminal", "worker_losses",
            )
        )
        by_status = {}
        for row in rows:
            by_status[row["status"]] = by_status.get(row["status"], 0) + 1
        lone = next(row for row in rows if row["pk"] == lone_run.pk)
        took = [
            (row["finished_at"] - row["claimed_at"]).total_seconds()
            for row in rows
            if row["status"] == Run.Status.COMPLETED and not row["worker_losses"]
        ]
        return {
            "runs": len(rows),
            "by_status": by_status,
            "all_completed": all(row["status"] == Run.Status.COMPLETED for row in rows),
            "terminal_ok": all(row["terminal"] == 1 for row in rows),
            "lone_wait_s": (
                (lone["started_at"] - lone["created_at"]).total_seconds()
                if lone["started_at"]
                else float("nan")
            ),
            "resumed": sum(1 for row in rows if row["worker_losses"]),
            "run_s_median": statistics.median(took) if took else float("nan"),
        }

    def fanout_figures(self, watched, viewers):
        """Latency from each step's storing to each viewer's push that shows it (steps
        stored before the viewer connected came with its first, whole-state push: not a
        fan-out of that step)."""
        watched.refresh_from_db()
        stored = dict(
            RunEvent.objects.filter(run=watched, kind=Kind.STEP).values_list("step", "created_at")
        )
        latencies, sizes, saw_end = [], [], 0
        for viewer in viewers:
            shown = set()  # a later push showing the same step again (a resume's note, a
            for arrived, text in viewer.pushes:  # newcomer's push) is not its fan-out
                match = CURRENT_STEP.search(text)
                step = int(match.group(1)) if match else 0
                if step not in stored or 'data-status="queued"' in text or step in shown:
                    continue
                shown.add(step)
                stored_at = stored[step].timestamp()
                if viewer.opened_at and stored_at >= viewer.opened_at:  # not before it watched
                    latencies.append(1000 * (arrived - stored_at))
                    sizes.append(len(text.encode()))
            if viewer.saw('data-status="completed"'):
                saw_end += 1
        took = (
            (watched.finished_at - watched.claimed_at).total_seconds()
            if watched.finished_at and watched.claimed_at
            else float("nan")
        )
        # the runs trained at the same time (claimed within 15 s of it, never resumed): what
        # the watched run would have taken unwatched, on a machine as busy
        peers, peer_ids = [], []
        if watched.claimed_at:
            tag = watched.owner.username.split("-")[0] + "-"  # this load check's runs
            near = Run.objects.filter(
                owner__username__startswith=tag,
                status=Run.Status.COMPLETED,
                worker_losses=0,
                claimed_at__gte=watched.claimed_at - timedelta(seconds=15),
                claimed_at__lte=watched.claimed_at + timedelta(seconds=15),
            ).exclude(pk=watched.pk)
            near = list(near.values_list("pk", "claimed_at", "finished_at"))
            peers = [(end - start).total_seconds() for _, start, end in near]
            peer_ids = [pk for pk, _, _ in near]
        return {
            "fanout_viewers": saw_end,
            "fanout_opened": sum(1 for v in viewers if v.handshake == 101),
            "fanout_ms": latencies,
            "push_bytes": sizes,  # of the pushes timed: what each step costs a socket
            "watched_s": took,
            "peers_s": statistics.median(peers) if peers else float("nan"),
            "peer_ids": peer_ids,
            "watched_pk": watched.pk,
        }

    def cpu_figures(self, watched, samples):
        """Cores busy per role while the watched run trained (its 100 viewers pushed to) and
        for as long right after it (the burst going on, its audience idle)."""
        watched.refresh_from_db()
        if not (watched.claimed_at and watched.finished_at):
            return {"cpu_watched": None, "cpu_after": None}
        start, end = watched.claimed_at.timestamp(), watched.finished_at.timestamp()
        later = end + 0.5  # its last pushes sent

        def measured(figures):  # a worker killed in the window took its seconds with it
            return figures if figures and min(figures.values()) >= 0 else None

        return {
            "cpu_watched": measured(cores_used(samples, start, end)),
            "cpu_after": measured(cores_used(samples, later, later + (end - start))),
        }

    def report(self, f):
        panel, fanout = f["panel_ms"], f["fanout_ms"]
        statuses = ", ".join(f"{n} {s}" for s, n in sorted(f["by_status"].items()))
        self.stdout.write(f"runs: {statuses}; all ended after {f['all_done_s']:.1f} s")
        self.stdout.write(
            f"a run takes {f['run_s_median']:.1f} s (median); the lone student's run started "
            f"{f['lone_wait_s']:.1f} s after its submission; {f['resumed']} run(s) resumed "
            f"after the worker was killed"
        )
        if panel:
            self.stdout.write(
                f"instructor panel: {len(panel)} loads, median {statistics.median(panel):.0f} "
                f"ms, p95 {percentile(panel, 0.95):.0f} ms, non-200: {len(f['panel_errors'])}"
            )
        self.stdout.write(
            f"fan-out: {f['fanout_opened']} viewers connected to run {f['watched_pk']}, "
            f"{f['fanout_viewers']} saw it end; {len(fanout)} pushes "
            f"({statistics.mean(f['push_bytes'] or [0]) / 1000:.1f} KB each on average), p50 "
            f"{percentile(fanout, 0.5):.0f} ms, p95 {percentile(fanout, 0.95):.0f} ms after "
            f"the step was stored; the watched run took {f['watched_s']:.1f} s "
            f"(runs started within 15 s of it: {f['peers_s']:.1f} s median; all runs: "
            f"{f['run_s_median']:.1f} s)"
        )
        def cores(figures):
            if not figures:
                return "not measured (a worker was killed meanwhile)"
            return ", ".join(f"{role} {value:.2f}" for role, value in figures.items())

        self.stdout.write(
            f"cores busy while the watched run trained: {cores(f['cpu_watched'])}; "
            f"as long right after it (no audience to push to): {cores(f['cpu_after'])}"
        )
        if f.get("training"):
            t = f["training"]
            self.stdout.write(
                f"training the watched run took {t['cpu_s']:.2f} s of CPU in {t['wall_s']:.2f} "
                f"s (the {t['peers']} runs trained within 15 s of it: {t['peers_cpu_s']:.2f} s "
                f"of CPU in {t['peers_wall_s']:.2f} s, median): CPU "
                f"{t['cpu_s'] / t['peers_cpu_s']:.2f}×, wall "
                f"{t['wall_s'] / t['peers_wall_s']:.2f}× theirs"
            )
        self.stdout.write(cost_line(f["panel_cpu"], f["audience"]))
        yes = {True: "true", False: "false"}
        self.stdout.write(
            f"runs={f['runs']} all_completed={yes[f['all_completed']]} "
            f"terminal_ok={yes[f['terminal_ok']]} lone_wait_s={f['lone_wait_s']:.1f} "
            f"resumed={f['resumed']} panel_p95_ms={percentile(panel, 0.95):.0f} "
            f"fanout_viewers={f['fanout_viewers']} fanout_p95_ms={percentile(fanout, 0.95):.0f}"
        )


def training_figures(trained, watched_pk, peer_ids):
    """The watched run's training CPU and wall seconds against the median of the runs
    trained beside it: being watched must add no work to training (CPU); the wall time
    also shows how much of the cores the rest of the machine took."""
    peers = [trained[pk] for pk in peer_ids if pk in trained]
    if watched_pk not in trained or not peers:
        return None
    cpu, wall = trained[watched_pk]
    return {
        "cpu_s": cpu,
        "wall_s": wall,
        "peers_cpu_s": statistics.median(c for c, _ in peers),
        "peers_wall_s": statistics.median(w for _, w in peers),
        "peers": len(peers),
    }


def cost_line(panel, audience):
    """What a panel load and a push cost in CPU (independent of how loaded the machine was),
    and the load average when it was measured."""
    import os

    words = (
        f"cost: panel load {panel['cpu_ms']:.0f} ms CPU ({panel['wall_ms']:.0f} ms wall; "
        f"{panel['cold_cpu_ms']:.0f} ms CPU cold)"
    )
    if audience:
        words += (
            f"; watched run: {audience['wakes']} wake-ups, {audience['pushes']} pushes, "
            f"{audience['renders']} renders ({audience.get('renders_shared', 0)} of them "
            f"another server process's) of {audience['render_cpu_ms']:.0f} ms CPU each "
            f"({audience.get('render_wall_ms', float('nan')):.0f} ms wall a push), "
            f"{audience['send_ms']:.0f} ms to hand each push to every socket, "
            f"{audience.get('wake_to_sent_ms', float('nan')):.0f} ms from a wake-up to its "
            f"push sent (at most {audience.get('wake_to_sent_max_ms', float('nan')):.0f}), "
            f"{audience.get('wake_delivery_ms', float('nan')):.0f} ms from the trainer's "
            f"flush to its wake-up arriving (at most "
            f"{audience.get('wake_delivery_max_ms', float('nan')):.0f})"
        )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return words + f"; load average {load}"
