from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ClassroomsConfig(AppConfig):
    name = "classrooms"

    def ready(self):
        from classrooms import signals  # noqa: F401 (connects the receivers)
        from classrooms.instructor_group import sync_after_migrate

        post_migrate.connect(sync_after_migrate, sender=self, dispatch_uid="instructor_group")
