"""The limited "Instructors" permission group (see classrooms/instructor_group.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_group(apps, schema_editor):
    from classrooms.instructor_group import make_instructor_group

    # Permissions are normally created after all migrations; make the ones we grant now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    make_instructor_group(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("classrooms", "0002_alter_classroom_options_classroom_default_config_and_more"),
        ("packs_app", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_group, migrations.RunPython.noop)]
