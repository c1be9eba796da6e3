from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "yunyi.audit"
    label = "audit"
    verbose_name = "Audit trail"
