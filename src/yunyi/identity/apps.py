from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "yunyi.identity"
    label = "identity"
    verbose_name = "Identity provider"
