"""`manage.py bench_lenses`: p95 server time of the lenses at the max config.

Trains a throwaway 2,000-step run at the max config (n_embd 64, 8 heads, 2 layers, block 64)
through the real training code, then times, in-process:
- lens: the reading fragment (ladder, contributions, this step's head roles) of a 63-character
  text, nothing switched off;
- ablate: the same with one head switched off (its loss per position, top-k change and the
  mean over the held-out lines);
- roles: one snapshot's head roles, scored from its stored parameters (loaded afresh);
- timeline: the whole run's roles timeline over its loss curve, as the page builds it;
and rolls everything back. The last line is `lens_ms=… ablate_ms=… roles_ms=… timeline_ms=…`
(p95 of --repeat measurements, on one BLAS thread; targets: ≤ 200, ≤ 200, ≤ 200, ≤ 300).
"""

import time
import uuid

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import Client
from django.urls import reverse
from threadpoolctl import threadpool_limits

from engine import Vocab
from runs import playground_model
from runs.lenses import inputs
from runs.lenses.embedding_map import compute_map
from runs.lenses.timeline import role_scores
from runs.lenses.views import timeline_context
from runs.management.commands.bench_opview import Rollback, trained_run

# snapshot_interval 0: the run's own default (as many snapshots as fit its budget)
MAX_CONFIG = {"n_embd": 64, "n_head": 8, "n_layer": 2, "block_size": 64, "num_steps": 2000,
              "snapshot_interval": 0, "sample_interval": 2000, "sample_count": 0}
BENCH_LINES = "\n".join(
    f"the quick brown fox {i} jumps over the lazy dog while {i % 7} sly cats watch {i % 11} birds"
    for i in range(200)
)


def p95(values):
    return float(np.percentile(values, 95))


def timed(fn, repeat):
    """(wall-clock ms, this process's CPU ms) of `repeat` calls."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return wall, cpu


class Command(BaseCommand):
    help = "Time the lenses at the max config (last line: lens_ms ablate_ms roles_ms timeline_ms)."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=20)
        parser.add_argument("--steps", type=int, default=2000)

    def handle(self, *args, repeat, steps, **options):
        try:
            # one BLAS thread, as engine.bench: a busy machine's extra threads only wait
            with transaction.atomic(), threadpool_limits(1):
                self.bench(repeat, steps)
                raise Rollback
        except Rollback:
            pass

    def bench(self, repeat, steps):
        user = get_user_model().objects.create_user(f"bench-lenses-{uuid.uuid4().hex[:8]}")
        start = time.perf_counter()
        run = trained_run(user, text=BENCH_LINES, **{**MAX_CONFIG, "num_steps": steps})
        self.stdout.write(f"trained {steps} steps at the max config in "
                          f"{time.perf_counter() - start:.1f} s; {len(run.snapshot_steps())} "
                          "snapshots")
        host = next((h for h in settings.ALLOWED_HOSTS if "*" not in h), "localhost")
        client = Client(HTTP_HOST=host.lstrip("."))
        client.force_login(user)
        url = reverse("runs:lenses", args=[run.pk])
        text = BENCH_LINES.split("\n")[5][:63]  # with BOS, the whole block
        step = run.snapshot_steps()[-1]

        def reading(**query):
            response = client.get(url, {"text": text, "step": step, **query},
                                  HTTP_HX_REQUEST="true")
            assert response.status_code == 200, response.status_code

        reading()  # warm up: imports, the model cache
        lens = timed(reading, repeat)
        ablate = timed(lambda: reading(off="h1.3"), repeat)
        tokens = [Vocab(run.vocab).encode(line, 64) for line in
                  inputs.role_texts(inputs.documents_of(run), run.seed)]

        def roles():
            playground_model.CACHE.clear()  # from the stored parameters, as a cold request
            role_scores(inputs.model_for(run, step), tokens)

        roles_ms = timed(roles, repeat)
        timeline_ms = timed(lambda: timeline_context(run), repeat)
        map_ms = timed(lambda: compute_map(run), max(3, repeat // 4))
        self.stdout.write(f"the embedding map of every snapshot, built once then cached: "
                          f"map_ms={p95(map_ms[0]):.0f}")
        figures = {"lens": lens, "ablate": ablate, "roles": roles_ms, "timeline": timeline_ms}
        self.stdout.write(f"p95 of {repeat}, this process's CPU time: " + " ".join(
            f"{name}_cpu_ms={p95(cpu):.0f}" for name, (_, cpu) in figures.items()))
        self.stdout.write(" ".join(
            f"{name}_ms={p95(wall):.0f}" for name, (wall, _) in figures.items()))
