from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "yunyi.accounts"
    label = "accounts"
    verbose_name = "Accounts"
