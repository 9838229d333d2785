from django.apps import AppConfig


class MusictrackerConfig(AppConfig):
    name = "musictracker"
    verbose_name = "Accounts and jobs"
