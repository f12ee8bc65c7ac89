"""Who may do what in a classroom: one place, used by the views and the sockets."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from classrooms.models import Classroom, Removal
from common.roles import is_instructor


def require_instructor_role(user):
    if not is_instructor(user):
        raise PermissionDenied("Only instructors can do this.")


def classroom_for(user, classroom_id, *, teach=False):
    """The classroom, when `user` teaches it or (unless `teach`) belongs to it.

    Strangers get a 404 (a classroom's existence is not revealed); a member asking for an
    instructor's action gets a 403."""
    classroom = Classroom.objects.select_related("instructor").filter(pk=classroom_id).first()
    if classroom is None or not user.is_authenticated:
        raise Http404("No such classroom.")
    if classroom.is_taught_by(user):
        return classroom
    if classroom.has_member(user):
        if teach:
            raise PermissionDenied("Only the classroom's instructor can do this.")
        return classroom
    if Removal.objects.filter(classroom=classroom, student=user).exists():
        raise PermissionDenied(
            f"You were removed from {classroom.name}. Your runs stay yours; ask the "
            "instructor for the join code if this was a mistake."
        )
    raise Http404("No such classroom.")


def can_watch_classroom(user, classroom):
    """The live panel socket: the classroom's instructor only."""
    return classroom.is_taught_by(user)
