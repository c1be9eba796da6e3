from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PractitionersConfig(AppConfig):
    name = "yunyi.practitioners"
    label = "practitioners"
    verbose_name = _("Doctors: profiles, licences and schedules")

    def ready(self) -> None:
        from yunyi.practitioners.models import Licence
        from yunyi.privacy.fields import register_encrypted_column

        register_encrypted_column(
            model=Licence,
            field="number_ciphertext",
            associated_data=Licence.number_associated_data,
        )
