from django.core.management.base import BaseCommand

from packs_app.models import Pack
from packs_app.signals import packs_loaded


class Command(BaseCommand):
    help = (
        "Create or update the built-in packs from packs_app/builtin/data (idempotent), then "
        "train each one's showcase run if it has none (LAB_SHOWCASES=0 skips that)."
    )

    def handle(self, *args, **options):
        loaded = Pack.objects.load_builtins()
        for pack, created in loaded:
            self.stdout.write(f"{'created' if created else 'updated'} {pack.slug}")
        packs_loaded.send(Pack, packs=[pack for pack, _ in loaded], say=self.stdout.write)
