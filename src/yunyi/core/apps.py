from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yunyi.core"
    label = "core"

    def ready(self) -> None:
        from yunyi.core import checks  # noqa: F401  (registers the system checks)
