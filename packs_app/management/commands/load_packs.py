from django.core.management.base import BaseCommand

from packs_app.models import Pack


class Command(BaseCommand):
    help = "Create or update the built-in packs from packs_app/builtin/data (idempotent)."

    def handle(self, *args, **options):
        for pack, created in Pack.objects.load_builtins():
            self.stdout.write(f"{'created' if created else 'updated'} {pack.slug}")
