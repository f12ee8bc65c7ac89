"""`manage.py check_diagnostics`: no false alarm on any built-in pack's recommended run.

Trains every built-in pack with its recommended config over several seeds, as a run does
(the same held-out lines, probe line and evaluation steps; runs.evaluation.train_and_diagnose),
and prints what runs.diagnostics finds, with 20 samples' evidence: how many copy a training
line, and how many of the copies and of the new ones are correct (a model that memorises
is right on what it copied and wrong on what it made up). Then runs that must trigger a
check. The last line is key=value pairs: runs=… (recommended runs) false_alarms=… (must be
0: runs where any check fired, memorising included) memorising=… (of those, memorising)
must_fire=… (runs that must trigger a check) missed=… (must be 0) seconds=…
"""

import time

from django.core.management.base import BaseCommand, CommandError

from packs_app.builtin import BUILTIN_PACKS
from packs_app.models import document_lines
from runs.diagnostics import diagnose
from runs.evaluation import train_and_diagnose

# (pack, config changes, the finding that must appear)
MUST_FIRE = [
    ("arithmetic", {"learning_rate": 1.0, "num_steps": 300}, "diverged"),
    ("arithmetic", {"learning_rate": 0.00001, "num_steps": 300}, "not_learning"),
    ("regex", {"block_size": 4, "num_steps": 200}, "lines_cut"),
    # the recommended arithmetic run before it was shortened: 25 passes over 54 lines
    ("arithmetic", {"num_steps": 1500}, "memorising"),
]


class Command(BaseCommand):
    help = ("Train each built-in pack's recommended run over several seeds: no diagnostic may "
            "fire; then runs that must trigger one.")

    def add_arguments(self, parser):
        parser.add_argument("--seeds", type=int, default=3, help="Seeds per pack (default 3).")
        parser.add_argument("--packs", nargs="*", help="Only these pack slugs.")

    def handle(self, *args, seeds=3, packs=None, **options):
        began = time.monotonic()
        false_alarms, memorising, missed, runs, must_fire = 0, 0, 0, 0, 0
        for spec in BUILTIN_PACKS.values():
            if packs and spec.slug not in packs:
                continue
            documents = document_lines(spec.text())
            for seed in range(seeds):
                config = {**spec.recommended_config, "seed": seed}
                data, samples, copied = train_and_diagnose(
                    documents, config, pack_probe=(spec.probe_line, spec.probe_focus)
                )
                found = [f.code for f in diagnose(data)]
                runs += 1
                false_alarms += bool(found)
                memorising += "memorising" in found
                vals = [v for v in data.val_losses if v is not None]
                copies = [s for s, c in zip(samples, copied, strict=True) if c]
                new = [s for s, c in zip(samples, copied, strict=True) if not c]
                right = sum(map(spec.is_valid_line, copies)), sum(map(spec.is_valid_line, new))
                self.stdout.write(
                    f"{spec.slug:<13} seed {seed}  steps {data.num_steps:>5}  "
                    f"val {min(vals):.3f}->{vals[-1]:.3f}  dead {data.dead_relu_share:.2f}  "
                    f"copied {len(copies):>2}/20 (correct {right[0]}/{len(copies)}; "
                    f"new correct {right[1]}/{len(new)})  {', '.join(found) or 'quiet'}"
                )
        for slug, changes, code in MUST_FIRE:
            if packs and slug not in packs:
                continue
            spec = BUILTIN_PACKS[slug]
            data, _, _ = train_and_diagnose(
                document_lines(spec.text()), {**spec.recommended_config, **changes}
            )
            found = [f.code for f in diagnose(data)]
            must_fire += 1
            missed += code not in found
            self.stdout.write(f"{slug:<13} {changes}  must find {code}: found {found or 'nothing'}")
        seconds = time.monotonic() - began
        self.stdout.write(
            f"runs={runs} false_alarms={false_alarms} memorising={memorising} "
            f"must_fire={must_fire} missed={missed} seconds={seconds:.0f}"
        )
        if false_alarms or missed:
            raise CommandError("a diagnostic raised a false alarm or missed its case")
