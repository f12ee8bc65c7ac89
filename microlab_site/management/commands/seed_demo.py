from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from common.roles import make_instructor

DEMO_ACCOUNTS = [("demo-instructor", True), ("demo-student", False)]
DEMO_PASSWORD = "microlab-demo"


class Command(BaseCommand):
    help = "Create a demo instructor and a demo student (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            # `make setup-db` runs this in both modes: production simply gets no demo accounts
            self.stdout.write(
                "No demo accounts: DEBUG is off (production). Sign up on the site, or "
                "create an administrator with `manage.py createsuperuser`."
            )
            return
        User = get_user_model()
        for username, instructor in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            if instructor:
                make_instructor(user)
        names = " and ".join(name for name, _ in DEMO_ACCOUNTS)
        self.stdout.write(f"Demo accounts {names}, password '{DEMO_PASSWORD}' (development only).")
