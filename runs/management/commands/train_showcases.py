from django.core.management.base import BaseCommand, CommandError

from packs_app.models import Pack
from runs import showcase


class Command(BaseCommand):
    help = (
        "Train the showcase run of each built-in pack (or of the named ones) that has no "
        "current one. `load_packs` does this too, unless LAB_SHOWCASES=0."
    )

    def add_arguments(self, parser):
        parser.add_argument("slugs", nargs="*", help="Pack slugs (default: every built-in pack).")

    def handle(self, *args, slugs=(), **options):
        packs = Pack.objects.filter(builtin=True, enabled=True).order_by("slug")
        if slugs:
            packs = packs.filter(slug__in=slugs)
            missing = sorted(set(slugs) - {pack.slug for pack in packs})
            if missing:
                raise CommandError(f"no enabled built-in pack {', '.join(missing)}")
        trained = showcase.ensure(packs, say=self.stdout.write)
        self.stdout.write(f"showcases trained={len(trained)} packs={len(packs)}")
