"""System checks of the accounts app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security)
def code_sender_configured(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.YUNYI_ENV == "production" and settings.ACCOUNTS_CODE_SENDER in (
        "",
        "console",
        "memory",
    ):
        return [
            Warning(
                "No real sender for sign-up codes in production.",
                hint="Set YUNYI_CODE_SENDER to the dotted path of an SMS/e-mail CodeSender class.",
                id="yunyi.accounts.W001",
            )
        ]
    return []
