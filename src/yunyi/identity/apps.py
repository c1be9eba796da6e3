from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "yunyi.identity"
    label = "identity"
    verbose_name = "Identity provider"

    def ready(self) -> None:
        from yunyi.identity import cache_signals

        cache_signals.connect()
