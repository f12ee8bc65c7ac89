"""`manage.py bench_opview`: server time and HTML size of the op view at the max config.

Trains a throwaway run (n_embd 64, 4 heads, 2 layers, block 64) for a few steps through
the real training code, renders `/runs/<id>/steps/<step>/tokens/63/ops/` in-process with
the test client (each render traces the token from the stored parameters), and rolls
everything back. The last line is `render_ms=… html_kb=…` for the first render (no
backward step done); the line before it gives the fully stepped page too.
"""

import statistics
import time
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import Client
from django.urls import reverse

MAX_CONFIG = {
    "n_embd": 64,
    "n_head": 4,
    "n_layer": 2,
    "block_size": 64,
    "num_steps": 3,
    "learning_rate": 0.01,
    "seed": 1,
    "top_k": 5,
    "sample_interval": 1000,
    "sample_count": 0,
    "temperature": 0.5,
    "snapshot_interval": 1,
}
# one long line per document, so every step's document reaches position 63
BENCH_TEXT = "\n".join(
    f"the quick brown fox jumps over the lazy dog while {i} sly cats watch {9 - i} birds sing"
    for i in range(10)
)


class Rollback(Exception):
    pass


def trained_run(owner, text=BENCH_TEXT, **config):
    """A run trained synchronously through runs.training on a throwaway pack."""
    from packs_app.models import Pack
    from packs_app.sources import resolve_source
    from runs.models import Run
    from runs.training import train_run

    pack = Pack.objects.create(
        slug=f"bench-opview-{owner.pk}", title="Bench", teaches="-", text=text, builtin=False
    )
    run = Run.objects.start(owner, resolve_source(pack.slug, owner), {**MAX_CONFIG, **config})
    train_run(run.pk, "bench-opview")
    return Run.objects.get(pk=run.pk)


def time_renders(client, url, repeat):
    """Median wall-clock and CPU milliseconds of `repeat` renders, and the HTML size in KB."""
    wall, cpu, size = [], [], 0
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, response.status_code
        size = len(response.content)
    return statistics.median(wall), statistics.median(cpu), size / 1024


class Command(BaseCommand):
    help = "Time the op view's first render at the max config; prints render_ms and html_kb."

    def add_arguments(self, parser):
        parser.add_argument("--heads", type=int, default=4)
        parser.add_argument("--position", type=int, default=63)
        parser.add_argument("--repeat", type=int, default=15)

    def handle(self, *args, heads, position, repeat, **options):
        try:
            with transaction.atomic():
                user = get_user_model().objects.create_user(f"bench-opview-{uuid.uuid4().hex[:8]}")
                run = trained_run(user, n_head=heads)
                step = run.snapshot_steps()[-1]
                host = next((h for h in settings.ALLOWED_HOSTS if "*" not in h), "localhost")
                client = Client(HTTP_HOST=host.lstrip("."))
                client.force_login(user)
                url = reverse("runs:opview", args=[run.pk, step, position])
                client.get(url)  # warm up imports and NumPy
                first_ms, first_cpu, first_kb = time_renders(client, url, repeat)
                total = client.get(url).content.decode().count("data-bi=")
                full_ms, full_cpu, full_kb = time_renders(client, f"{url}?op={total}", repeat)
                self.stdout.write(
                    f"config n_embd=64 n_head={heads} n_layer=2 block=64 position={position}, "
                    f"median of {repeat} renders (cpu_ms: this process's CPU time)"
                )
                self.stdout.write(
                    f"all {total} backward steps done: render_ms={full_ms:.0f} "
                    f"cpu_ms={full_cpu:.0f} html_kb={full_kb:.0f}"
                )
                self.stdout.write(f"first render: cpu_ms={first_cpu:.0f}")
                self.stdout.write(f"render_ms={first_ms:.0f} html_kb={first_kb:.0f}")
                raise Rollback
        except Rollback:
            pass
