"""The classroom layer's answers to the layers below (common.classroom_hooks): which
classrooms a user has, and the rules a classroom sets for runs started in it."""

from django.core.exceptions import PermissionDenied

from classrooms.models import Classroom
from packs_app.models import Pack
from runs.config import CONFIG_FIELDS
from runs.policy import RunPolicy, site_max_active_runs


class ClassroomAnswers:
    def find(self, pk):
        return Classroom.objects.filter(pk=pk).first()

    def of_user(self, user):
        return Classroom.objects.of_user(user)

    def of_member(self, user):
        if not user.is_authenticated:
            return Classroom.objects.none()
        return Classroom.objects.filter(students=user)

    def taught_by(self, user):
        return Classroom.objects.taught_by(user)

    def run_policy(self, user, classroom):
        if not (classroom.is_taught_by(user) or classroom.has_member(user)):
            raise PermissionDenied("You are not in this classroom.")
        # the instructor's packs: built-in ones, their own custom packs, those shared with them
        offered = Pack.objects.available_to(classroom.instructor)
        if classroom.offered_packs.exists():
            offered = offered.filter(pk__in=classroom.offered_packs.values("pk"))
        default_config = {k: v for k, v in classroom.default_config.items() if k in CONFIG_FIELDS}
        locked = tuple(name for name in classroom.locked_fields if name in default_config)
        site_max = site_max_active_runs()
        return RunPolicy(
            classroom, default_config, locked, min(classroom.max_active_runs, site_max), offered
        )
