"""Uploads become one copy per owner: a text several students uploaded was one row with
several owners (and the first one's name and sharing). Each later owner gets a row of
their own (no name: theirs was never stored; no sharing), and their runs follow it."""

import hashlib

from django.db import migrations


def id_for(text, owner_id):
    return hashlib.sha256(f"{owner_id}\n{text}".encode()).hexdigest()[:20]


def split_shared_rows(apps, schema_editor):
    upload_model = apps.get_model("packs_app", "Upload")
    run_model = apps.get_model("runs", "Run")
    for upload in upload_model.objects.all():
        owners = list(upload.owners.order_by("pk"))
        if len(owners) < 2:
            continue
        keeper = upload.created_by_id if upload.created_by_id in {o.pk for o in owners} else None
        keeper = keeper or owners[0].pk
        for owner in owners:
            if owner.pk == keeper:
                continue
            own, _ = upload_model.objects.get_or_create(
                id=id_for(upload.text, owner.pk),
                defaults={
                    "text": upload.text,
                    "created_by": owner,
                    "last_uploaded_at": upload.last_uploaded_at,
                },
            )
            own.owners.add(owner)
            upload.owners.remove(owner)
            run_model.objects.filter(upload=upload, owner=owner).update(upload=own)


class Migration(migrations.Migration):
    dependencies = [
        ("packs_app", "0004_blocklist_other_category"),
        ("runs", "0004_run_canceled_by_note"),
    ]

    operations = [migrations.RunPython(split_shared_rows, migrations.RunPython.noop)]
