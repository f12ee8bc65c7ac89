from django.apps import AppConfig


class PacksConfig(AppConfig):
    name = "packs_app"
    verbose_name = "Packs"
