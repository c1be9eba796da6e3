"""`yunyi createclient`: register an OAuth client and print its secret once (or, with `--jwks`,
register the public keys it signs `private_key_jwt` assertions with: no secret)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations
from oauth2_provider.models import AbstractApplication

from yunyi.audit.services import AuditContext
from yunyi.core.errors import ApplicationError
from yunyi.identity.scopes import is_system_scope
from yunyi.identity.services import client_register


def _default_grant_type(options: dict[str, Any]) -> str:
    scopes = options["scopes"].split()
    backend = bool(scopes) and all(is_system_scope(scope) for scope in scopes)
    if backend and not options["redirect_uris"]:
        return AbstractApplication.GRANT_CLIENT_CREDENTIALS
    return AbstractApplication.GRANT_AUTHORIZATION_CODE


class Command(BaseCommand):
    help = (
        "Register an OAuth 2.0 / OpenID Connect client. The secret of a confidential client is "
        "printed once and stored only hashed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--redirect-uri", action="append", default=[], dest="redirect_uris")
        parser.add_argument(
            "--post-logout-redirect-uri",
            action="append",
            default=[],
            dest="post_logout_redirect_uris",
        )
        kind = parser.add_mutually_exclusive_group()
        kind.add_argument("--public", action="store_true", help="a browser or mobile app (default)")
        kind.add_argument(
            "--confidential", action="store_true", help="a server that keeps a secret"
        )
        parser.add_argument(
            "--grant-type",
            choices=[
                AbstractApplication.GRANT_AUTHORIZATION_CODE,
                AbstractApplication.GRANT_CLIENT_CREDENTIALS,
            ],
            default=None,
            help=(
                "default: client-credentials for a back-end service (no --redirect-uri, only "
                "system/ scopes), else authorization-code"
            ),
        )
        parser.add_argument(
            "--scopes",
            default="openid profile fhirUser offline_access",
            help="space-separated scopes the client may be granted",
        )
        parser.add_argument(
            "--jwks",
            metavar="FILE",
            help=(
                "a JSON file with the client's public JWK Set: it then authenticates with "
                "private_key_jwt (RS384/ES384 client assertions) instead of a secret"
            ),
        )
        parser.add_argument(
            "--launch-uri",
            default="",
            metavar="URL",
            help=(
                "SMART EHR launch: the app's launch URL; doctors can then open it from a "
                "patient's chart (it is called with iss and launch)"
            ),
        )
        parser.add_argument(
            "--skip-authorization",
            action="store_true",
            help="first-party client: no consent page",
        )

    @no_translations
    def handle(self, *args: Any, **options: Any) -> None:
        grant_type = options["grant_type"] or _default_grant_type(options)
        if (
            grant_type == AbstractApplication.GRANT_AUTHORIZATION_CODE
            and not options["redirect_uris"]
        ):
            raise CommandError("--redirect-uri is required for the authorization code grant")
        jwks = None
        if options["jwks"]:
            if not options["confidential"]:
                raise CommandError("--jwks is for confidential clients (--confidential)")
            try:
                jwks = Path(options["jwks"]).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                raise CommandError(f"cannot read {options['jwks']}: {error}") from error
        try:
            registered = client_register(
                name=options["name"],
                client_id=options["client_id"],
                redirect_uris=options["redirect_uris"],
                post_logout_redirect_uris=options["post_logout_redirect_uris"],
                confidential=bool(options["confidential"]),
                scopes=options["scopes"],
                grant_type=grant_type,
                skip_authorization=bool(options["skip_authorization"]),
                jwks=jwks,
                launch_uri=options["launch_uri"],
                context=AuditContext(client_id="yunyi-cli"),
            )
        except ApplicationError as error:
            detail = f" {error.details}" if error.details else ""
            raise CommandError(f"{error.message}{detail}") from error
        application = registered.application
        self.stdout.write(f"client_id: {application.client_id}")
        self.stdout.write(f"client_type: {application.client_type}")
        self.stdout.write(f"grant_type: {application.authorization_grant_type}")
        self.stdout.write(f"allowed_scopes: {application.yunyi_policy.allowed_scopes}")
        if application.yunyi_policy.launch_uri:
            self.stdout.write(f"launch_uri: {application.yunyi_policy.launch_uri}")
        if jwks is not None:
            kids = [key["kid"] for key in json.loads(application.yunyi_policy.jwks)["keys"]]
            self.stdout.write("token_endpoint_auth_method: private_key_jwt")
            self.stdout.write(f"key_ids: {' '.join(kids)}")
        if registered.client_secret:
            self.stdout.write(f"client_secret: {registered.client_secret}")
            self.stdout.write(
                "Store the secret now: it is kept only hashed and cannot be shown again."
            )
