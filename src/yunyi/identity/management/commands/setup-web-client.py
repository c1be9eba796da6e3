"""`yunyi setup-web-client`: create or update the first-party web app client `yunyi-web`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, no_translations

from yunyi.audit.services import AuditContext
from yunyi.core.errors import ApplicationError
from yunyi.identity.services import web_client_setup


class Command(BaseCommand):
    help = "Create or update the public client yunyi-web (redirect <YUNYI_BASE_URL>/auth/callback)."

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        try:
            application = web_client_setup(context=AuditContext(client_id="yunyi-cli"))
        except ApplicationError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            f"OAuth client {application.client_id}: redirect {application.redirect_uris}, "
            f"post-logout {application.post_logout_redirect_uris}"
        )
