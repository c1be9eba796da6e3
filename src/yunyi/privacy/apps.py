from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "yunyi.privacy"
    label = "privacy"
    verbose_name = "Privacy"
