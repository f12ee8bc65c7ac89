"""Two roles: student (everyone) and instructor (staff in the Instructors group)."""

from django.contrib.auth.models import Group

INSTRUCTORS = "Instructors"


def is_instructor(user):
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_is_instructor", None)
    if cached is None:
        cached = user._is_instructor = user.groups.filter(name=INSTRUCTORS).exists()
    return cached


def make_instructor(user):
    """Grant the instructor role: staff (for the admin) in the Instructors group."""
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS)
    user.groups.add(group)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user._is_instructor = True


def role_context(request):
    # a request refused before the authentication middleware ran (a Host header the site
    # does not serve) has no user: its error page is a visitor's
    user = getattr(request, "user", None)
    return {"is_instructor": user is not None and is_instructor(user)}
