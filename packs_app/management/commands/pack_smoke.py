from django.core.management.base import BaseCommand, CommandError

from packs_app.builtin import BUILTIN_PACKS
from packs_app.pack_training import train_builtin

SMOKE_STEPS = 150
SMOKE_SAMPLES = 5


class Command(BaseCommand):
    help = "Train each built-in pack briefly: the loss must fall and samples must be non-empty."

    def add_arguments(self, parser):
        parser.add_argument("--steps", type=int, default=SMOKE_STEPS)
        parser.add_argument("packs", nargs="*", help="Slugs (default: all six).")

    def handle(self, *args, steps=SMOKE_STEPS, packs=(), **options):
        failures = []
        for slug in packs or BUILTIN_PACKS:
            if slug not in BUILTIN_PACKS:
                raise CommandError(f"no built-in pack {slug!r}")
            result = train_builtin(BUILTIN_PACKS[slug], num_steps=steps, sample_count=SMOKE_SAMPLES)
            problems = []
            if not result.final_loss < result.first_loss:
                problems.append(
                    f"loss did not fall ({result.first_loss:.3f} -> {result.final_loss:.3f})"
                )
            if not any(sample.strip() for sample in result.samples):
                problems.append("every sample is empty")
            verdict = "ok" if not problems else "FAIL: " + "; ".join(problems)
            self.stdout.write(
                f"{slug:<13} loss {result.first_loss:.3f} -> {result.final_loss:.3f}  "
                f"sample {result.samples[0]!r}  {verdict}"
            )
            if problems:
                failures.append(slug)
        if failures:
            raise CommandError(f"pack smoke failed for: {', '.join(failures)}")
        self.stdout.write(f"pack smoke ok: {len(packs or BUILTIN_PACKS)} packs")
