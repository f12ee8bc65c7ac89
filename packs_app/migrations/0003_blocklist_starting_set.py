"""The blocklist's starting set. Instructors edit it in the admin; this only adds entries
that are missing, so re-running it never duplicates or overrides their changes."""

from django.db import migrations

# (category, pattern, is_regex, note)
STARTING_SET = [
    ("secrets", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----", True, "PEM private-key header"),
    ("secrets", r"PuTTY-User-Key-File", False, "PuTTY private key"),
    ("secrets", r"\bAKIA[0-9A-Z]{16}\b", True, "AWS access key id"),
    ("secrets", r"\bsk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{20,}", True, "sk-… secret API key"),
    ("secrets", r"\bgh[pousr]_[A-Za-z0-9]{36}\b", True, "GitHub token"),
    ("secrets", r"\bxox[abprs]-[A-Za-z0-9-]{10,}", True, "Slack token"),
    ("secrets", r"\bAIza[0-9A-Za-z_-]{35}\b", True, "Google API key"),
    (
        "secrets",
        r"\b(?:api[_-]?key|secret[_-]?key|access[_-]?token|auth[_-]?token|password)"
        r"\s*[:=]\s*['\"]?[A-Za-z0-9_\-/+=]{12,}",
        True,
        "a credential assigned in config or code",
    ),
    ("injection", "<script", False, "script tag"),
    ("injection", "javascript:", False, "javascript: URL"),
    ("injection", "vbscript:", False, "vbscript: URL"),
    ("injection", "data:text/html", False, "HTML data URL"),
    ("injection", "<iframe", False, "iframe tag"),
    ("injection", r"<(?:object|embed|svg|img|body)\b[^>]*\bon[a-z]+\s*=", True, "inline event handler"),
    ("injection", r"\bon(?:load|error|click|mouseover|focus)\s*=\s*['\"]", True, "event attribute"),
    ("destructive", "rm -rf /", False, "delete everything"),
    (
        "destructive",
        r"\brm\s+-(?:[a-z]*r[a-z]*f|[a-z]*f[a-z]*r)[a-z]*\s+(?:--no-preserve-root\s+)?[/~*]",
        True,
        "recursive forced delete of / ~ or *",
    ),
    ("destructive", r"\bdrop\s+database\b", True, "DROP DATABASE"),
    ("destructive", r"\bdrop\s+schema\b", True, "DROP SCHEMA"),
    ("destructive", r"\bmkfs(?:\.\w+)?\s+/dev/", True, "format a disk"),
    ("destructive", r"\bdd\s+if=\S+\s+of=/dev/(?:sd|hd|nvme|disk)", True, "overwrite a disk"),
    ("destructive", ":(){ :|:& };:", False, "fork bomb"),
    ("destructive", r"\bformat\s+c:", True, "format C:"),
    ("destructive", r"\b(?:del|rd|rmdir)\s+/[sq]\s+/[sq]\s+c:\\", True, "delete C:\\"),
]


def add_starting_set(apps, schema_editor):
    entry_model = apps.get_model("packs_app", "BlocklistEntry")
    for category, pattern, is_regex, note in STARTING_SET:
        entry_model.objects.get_or_create(
            category=category,
            pattern=pattern,
            defaults={"is_regex": is_regex, "note": note, "enabled": True},
        )


def remove_starting_set(apps, schema_editor):
    entry_model = apps.get_model("packs_app", "BlocklistEntry")
    for category, pattern, _, _ in STARTING_SET:
        entry_model.objects.filter(category=category, pattern=pattern).delete()


class Migration(migrations.Migration):
    dependencies = [("packs_app", "0002_upload_sharing_blocklist")]

    operations = [migrations.RunPython(add_starting_set, remove_starting_set)]
