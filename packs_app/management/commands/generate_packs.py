from django.core.management.base import BaseCommand, CommandError

from packs_app.builtin import BUILTIN_PACKS


class Command(BaseCommand):
    help = "Write the built-in packs' files from their generators (--check: verify them)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Only check that the files match; exit 1 if not."
        )

    def handle(self, *args, check=False, **options):
        stale = []
        for pack in BUILTIN_PACKS.values():
            text = pack.text()
            problems = pack.problems(text)
            if problems:
                raise CommandError(f"{pack.slug}: the generator is wrong: {'; '.join(problems)}")
            current = pack.path.read_text(encoding="utf-8") if pack.path.exists() else None
            if check:
                if current != text:
                    stale.append(pack.slug)
                continue
            if current != text:
                pack.path.parent.mkdir(parents=True, exist_ok=True)
                pack.path.write_text(text, encoding="utf-8")
                self.stdout.write(f"wrote {pack.path.name} ({len(text)} characters)")
            else:
                self.stdout.write(f"{pack.path.name} is up to date")
        if stale:
            raise CommandError(
                f"pack files out of date: {', '.join(stale)}; run `manage.py generate_packs`"
            )
        if check:
            self.stdout.write(f"all {len(BUILTIN_PACKS)} pack files match their generators")
