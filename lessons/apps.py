from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "lessons"

    def ready(self):
        from common import lesson_hooks
        from lessons import starter
        from lessons.checking import on_events_stored
        from lessons.prepared import LessonAnswers
        from packs_app.signals import packs_loaded
        from runs.signals import events_stored

        lesson_hooks.provide(LessonAnswers())
        events_stored.connect(on_events_stored, dispatch_uid="lessons.challenges")
        packs_loaded.connect(starter.on_packs_loaded, dispatch_uid="lessons.starter")
