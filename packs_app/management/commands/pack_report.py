from django.core.management.base import BaseCommand, CommandError

from packs_app.builtin import BUILTIN_PACKS
from packs_app.pack_training import REPORT_SAMPLES, WIDE_SAMPLES, train_builtin

TARGET = 0.9


class Command(BaseCommand):
    help = (
        "Train each built-in pack with its recommended config for the full run; print the "
        "final loss and how many of 20 samples follow the template (target: 90%)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--samples", action="store_true", help="Also print the samples.")
        parser.add_argument(
            "--strict", action="store_true", help="Exit 1 if a pack misses the 90% target."
        )

    def handle(self, *args, samples=False, strict=False, **options):
        header = (
            f"{'pack':<13} {'steps':>5} {'final loss':>10} {'ln(V)':>6} "
            f"{'adherence':>9} {'valid':>6} {f'of {WIDE_SAMPLES}':>7} {'seconds':>7}"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        results = []
        for spec in BUILTIN_PACKS.values():
            result = train_builtin(spec, sample_count=REPORT_SAMPLES, wide=WIDE_SAMPLES)
            valid = sum(spec.is_valid_line(sample) for sample in result.samples)
            results.append(result)
            self.stdout.write(
                f"{spec.slug:<13} {result.steps:>5} {result.final_loss:>10.3f} "
                f"{result.ln_vocab:>6.3f} {result.adherent:>4}/{len(result.samples):<4} "
                f"{valid:>3}/{len(result.samples):<2} "
                f"{result.wide_adherent / result.wide_count:>7.1%} {result.seconds:>7.1f}"
            )
            if samples:
                for sample in result.samples:
                    self.stdout.write(f"    {sample!r}")
        self.stdout.write(
            "final loss: mean over the last 50 steps; adherence: samples that follow the "
            "template; valid: samples that are also correct (legal chess, right sums, ...);\n"
            f"of {WIDE_SAMPLES}: the share of {WIDE_SAMPLES} more samples from the same model "
            "that follow the template (the steadier figure)"
        )
        lowest = min(result.adherence for result in results)
        self.stdout.write(f"min_adherence={lowest:.2f} packs={len(results)}")
        if strict and lowest < TARGET:
            raise CommandError(f"a pack is below the {TARGET:.0%} adherence target")
