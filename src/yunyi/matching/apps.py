from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "yunyi.matching"
    label = "matching"
    verbose_name = "Doctor matching, assignment and service regions"
