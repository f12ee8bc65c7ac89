from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from common.roles import make_instructor


class Command(BaseCommand):
    help = "Give an existing account the instructor role."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"No account named {username!r}.") from exc
        make_instructor(user)
        self.stdout.write(f"{username} is now an instructor.")
