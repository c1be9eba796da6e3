from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yunyi.core"
    label = "core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from yunyi.core import checks  # noqa: F401  (registers the system checks)
        from yunyi.core.timestamps import use_fast_timestamps

        connection_created.connect(use_fast_timestamps, dispatch_uid="yunyi_fast_timestamps")
