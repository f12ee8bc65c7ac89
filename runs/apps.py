from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"

    def ready(self):
        from packs_app.signals import packs_loaded
        from runs.showcase import on_packs_loaded

        packs_loaded.connect(on_packs_loaded, dispatch_uid="runs.showcase")
