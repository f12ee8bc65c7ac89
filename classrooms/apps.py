from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClassroomsConfig(AppConfig):
    name = "classrooms"

    def ready(self):
        from classrooms import funnel, signals  # noqa: F401 (signals connects the receivers)
        from classrooms.instructor_group import sync_after_migrate
        from classrooms.policy import ClassroomAnswers
        from common import classroom_hooks
        from common.funnel import stage_reached

        classroom_hooks.provide(ClassroomAnswers())
        stage_reached.connect(funnel.store, dispatch_uid="classrooms_funnel_store")
        post_migrate.connect(sync_after_migrate, sender=self, dispatch_uid="instructor_group")
