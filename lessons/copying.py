"""Copy a classroom for a new term: its settings, offered packs and lessons, not its
members, runs or reflections. A fresh join code, joining open."""

from django.db import transaction

from classrooms.models import Classroom
from lessons.models import Assignment


def copy_classroom(classroom, name=None):
    with transaction.atomic():
        copy = Classroom.objects.create(
            name=name or f"{classroom.name} (copy)",
            description=classroom.description,
            instructor=classroom.instructor,
            default_config=dict(classroom.default_config),
            locked_fields=list(classroom.locked_fields),
            max_active_runs=classroom.max_active_runs,
        )
        copy.offered_packs.set(classroom.offered_packs.all())
        for assignment in Assignment.objects.filter(classroom=classroom):
            Assignment.objects.create(lesson=assignment.lesson, classroom=copy)
    return copy
