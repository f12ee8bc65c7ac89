"""The "Instructors" permission group: staff who manage packs, the blocklist and their own
classrooms in the admin, and nothing else (no users, no passwords, no other classrooms:
ClassroomAdmin.get_queryset limits the rows).

The group is created by a data migration (0003) and kept in step after every `migrate`
(post_migrate, see apps.py), so models added later by other apps (the blocklist) get
their permissions granted as soon as they exist.
"""

from common.roles import INSTRUCTORS

# (app_label, model, actions)
INSTRUCTOR_PERMISSIONS = [
    ("packs_app", "pack", ("add", "change", "view")),
    ("packs_app", "blocklistentry", ("add", "change", "delete", "view")),
    ("classrooms", "classroom", ("add", "change", "delete", "view")),
    # view and remove: a student joins only with the join code (their consent), never by an
    # instructor's hand, since joining lets the instructor see their runs and uploads
    ("classrooms", "membership", ("delete", "view")),
]


def make_instructor_group(apps=None):
    """Create or update the group with exactly INSTRUCTOR_PERMISSIONS (those that exist)."""
    if apps is None:
        from django.apps import apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS)
    codenames = [
        (app_label, f"{action}_{model}")
        for app_label, model, actions in INSTRUCTOR_PERMISSIONS
        for action in actions
    ]
    wanted = [
        perm.pk
        for app_label, codename in codenames
        for perm in Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    ]
    group.permissions.set(wanted)
    return group


def sync_after_migrate(sender, **kwargs):
    apps = kwargs.get("apps")
    if apps is None:
        return
    try:
        apps.get_model("auth", "Group")
    except LookupError:
        return
    make_instructor_group(apps)
