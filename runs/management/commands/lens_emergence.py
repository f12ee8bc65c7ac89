"""`manage.py lens_emergence`: train Leapfrog letters (runs/lenses/leapfrog.py) at its
recommended config over several seeds, through the real run path (a Pack, Run.objects.start,
train_run), and print when each head took its role, as the head roles timeline says it. The
last line: `seeds=… previous_token_seeds=… first_step=…`."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from packs_app.models import Pack
from packs_app.sources import resolve_source
from runs.lenses import leapfrog
from runs.lenses.timeline import timeline
from runs.models import Run
from runs.training import train_run


def leapfrog_pack():
    """The Leapfrog letters pack (made, or brought up to date, once)."""
    pack, _ = Pack.objects.update_or_create(
        slug=leapfrog.SLUG,
        defaults={
            "title": leapfrog.TITLE,
            "teaches": leapfrog.TEACHES,
            "text": "\n".join(leapfrog.generate()),
            "recommended_config": leapfrog.RECOMMENDED_CONFIG,
            "adherence_pattern": leapfrog.PATTERN,
        },
    )
    return pack


def previous_token_step(run):
    """The earliest step at which one of the run's heads became (and stayed) a previous-token
    head, or None."""
    steps = [h["became"][1] for h in timeline(run)["heads"] if h["became"] and
             h["became"][0] == "previous"]
    return min(steps, default=None)


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2])
        parser.add_argument("--owner", default="lens-emergence")

    def handle(self, *args, seeds, owner, **options):
        owner, _ = get_user_model().objects.get_or_create(username=owner)
        pack = leapfrog_pack()
        found = []
        for seed in seeds:
            config = {**leapfrog.RECOMMENDED_CONFIG, "seed": seed}
            run = Run.objects.start(owner, resolve_source(pack.slug, owner), config,
                                    max_active=len(seeds) + 3)
            train_run(run.pk, "lens-emergence")
            run.refresh_from_db()
            step = previous_token_step(run)
            found.append(step)
            self.stdout.write(f"seed {seed}: run {run.pk}, final loss {run.final_loss:.3f}")
            for head in timeline(run)["heads"]:
                self.stdout.write(f"  {head['sentence']}")
        hits = [step for step in found if step is not None]
        self.stdout.write(
            f"seeds={len(seeds)} previous_token_seeds={len(hits)} "
            f"first_step={','.join(str(s) for s in found)}"
        )
