from django.conf import settings
from django.core.management.base import BaseCommand

from runs.retention import purge_expired


class Command(BaseCommand):
    help = "Delete finished runs and unused uploads older than LAB_RETENTION_DAYS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Age limit in days (default LAB_RETENTION_DAYS={settings.LAB_RETENTION_DAYS}).",
        )

    def handle(self, *args, days=None, **options):
        counts = purge_expired(days=days)
        self.stdout.write(f"deleted {counts['runs']} runs and {counts['uploads']} uploads")
