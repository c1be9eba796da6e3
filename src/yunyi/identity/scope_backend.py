"""The django-oauth-toolkit scopes backend over our catalogue (`yunyi.identity.scopes`).

Kept apart from the catalogue because importing django-oauth-toolkit reads Django settings, and
the settings module imports the catalogue.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.scopes import BaseScopes

from yunyi.identity.scopes import ADVERTISED_SCOPES, ScopeCatalogue


class YunyiScopes(BaseScopes):
    def get_all_scopes(self) -> ScopeCatalogue:
        return ScopeCatalogue()

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        # What discovery advertises; which scopes a given client may receive is decided by
        # `YunyiOAuth2Validator.validate_scopes` against the client's policy.
        return list(ADVERTISED_SCOPES)

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        return ["openid"]
