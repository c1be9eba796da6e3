from django.apps import AppConfig


class EmrConfig(AppConfig):
    name = "yunyi.emr"
    label = "emr"
    verbose_name = "Electronic medical record"
