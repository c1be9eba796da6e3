from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "yunyi.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from yunyi.accounts import checks  # noqa: F401  (registers the system checks)
        from yunyi.accounts.models import RealNameIdentity
        from yunyi.privacy.fields import register_encrypted_column

        register_encrypted_column(
            model=RealNameIdentity,
            field="resident_id_ciphertext",
            associated_data=RealNameIdentity.resident_id_associated_data,
        )
