from django.apps import AppConfig


class PractitionersConfig(AppConfig):
    name = "yunyi.practitioners"
    label = "practitioners"
    verbose_name = "Doctors: profiles, licences and schedules"
