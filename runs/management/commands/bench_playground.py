"""`manage.py bench_playground`: server time and fragment size of the playground's reading
at the max config (2 layers, 8 heads, 64 dimensions, block 64).

Trains a throwaway run through the real training code (as bench_opview does), then asks for
the reading of a prompt that fills the block (63 characters after BOS: 64 tokens) through
the test client: permission check, the model from the bounded cache, one forward pass,
distribution, attention of all 16 heads, surprise per character and rendering. Everything is
rolled back. The last line is `p50_ms=… p95_ms=… html_kb=…` over the warm requests (each
prompt differs, as when typing); the line before gives the first, uncached request.
"""

import os
import statistics
import time
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test import Client
from django.urls import reverse

from runs.management.commands.bench_opview import BENCH_TEXT, Rollback, trained_run
from runs.playground_model import CACHE


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Time the playground's reading at the max config; prints p50_ms, p95_ms, html_kb."

    def add_arguments(self, parser):
        parser.add_argument("--heads", type=int, default=8)
        parser.add_argument("--repeat", type=int, default=60)

    def handle(self, *args, heads, repeat, **options):
        try:
            with transaction.atomic():
                user = get_user_model().objects.create_user(f"bench-pg-{uuid.uuid4().hex[:8]}")
                run = trained_run(user, n_head=heads)
                step = run.snapshot_steps()[-1]
                host = next((h for h in settings.ALLOWED_HOSTS if "*" not in h), "localhost")
                client = Client(HTTP_HOST=host.lstrip("."))
                client.force_login(user)
                url = reverse("runs:playground_predict", args=[run.pk])
                block = run.config["block_size"]
                line = BENCH_TEXT.replace("\n", " ")
                prompts = [line[i : i + block - 1] for i in range(repeat + 1)]
                CACHE.clear()
                cold_ms = self.request_ms(client, url, step, prompts[0])[0]
                times, cpu, size = [], [], 0
                for prompt in prompts[1:]:
                    start_cpu = time.process_time()
                    ms, size = self.request_ms(client, url, step, prompt)
                    cpu.append((time.process_time() - start_cpu) * 1000)
                    times.append(ms)
                self.stdout.write(
                    f"config n_embd=64 n_head={heads} n_layer=2 block={block}, a prompt of "
                    f"{block - 1} characters ({block} tokens with BOS), {repeat} requests"
                )
                self.stdout.write(
                    f"first request (parameters loaded into the cache): cold_ms={cold_ms:.1f}; "
                    f"cache holds {CACHE.bytes / 1e6:.2f} MB of "
                    f"{settings.LAB_PLAYGROUND_CACHE_MB} MB"
                )
                load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
                self.stdout.write(
                    f"this process's CPU time per request: p50 {statistics.median(cpu):.1f} ms, "
                    f"p95 {percentile(cpu, 0.95):.1f} ms (load average {load})"
                )
                self.stdout.write(
                    f"p50_ms={statistics.median(times):.1f} p95_ms={percentile(times, 0.95):.1f} "
                    f"html_kb={size / 1024:.1f}"
                )
                raise Rollback
        except Rollback:
            pass
        finally:
            CACHE.clear()

    @staticmethod
    def request_ms(client, url, step, prompt):
        start = time.perf_counter()
        response = client.get(url, {"step": step, "text": prompt})
        ms = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, response.content[:500]
        return ms, len(response.content)
