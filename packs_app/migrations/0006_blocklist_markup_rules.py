"""The markup rules that the starting set missed: any event-handler attribute in any tag, a
closing script tag, and `javascript:` with spaces or tabs inside (browsers drop them from a
URL). Text is normalised before matching (packs_app.models.blocklist_view), so entity- and
Unicode-disguised forms reach these rules as plain text. Only missing entries are added."""

from django.db import migrations

MARKUP_RULES = [
    (r"<[a-z][^>]*?[\s/\"']on[a-z]+\s*=", True, "event-handler attribute in any tag"),
    (r"</\s*script", True, "closing script tag"),
    (r"j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t\s*:", True, "javascript: URL, spaced out"),
    (r"v\s*b\s*s\s*c\s*r\s*i\s*p\s*t\s*:", True, "vbscript: URL, spaced out"),
]


def add_markup_rules(apps, schema_editor):
    entry_model = apps.get_model("packs_app", "BlocklistEntry")
    for pattern, is_regex, note in MARKUP_RULES:
        entry_model.objects.get_or_create(
            category="injection",
            pattern=pattern,
            defaults={"is_regex": is_regex, "note": note, "enabled": True},
        )


def remove_markup_rules(apps, schema_editor):
    entry_model = apps.get_model("packs_app", "BlocklistEntry")
    for pattern, _, _ in MARKUP_RULES:
        entry_model.objects.filter(category="injection", pattern=pattern).delete()


class Migration(migrations.Migration):
    dependencies = [("packs_app", "0005_upload_one_copy_per_owner")]

    operations = [migrations.RunPython(add_markup_rules, remove_markup_rules)]
