from django.apps import AppConfig


class DiagnosisConfig(AppConfig):
    name = "yunyi.diagnosis"
    label = "diagnosis"
    verbose_name = "Diagnosis suggestions and triage"
