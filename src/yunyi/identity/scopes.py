"""The scope catalogue (one place): OpenID Connect scopes and SMART App Launch v2 scopes.

Placeholder catalogue; the identity provider work fills in SMART v2 parsing and client grants.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.scopes import SettingsScopes

SCOPE_DESCRIPTIONS: dict[str, str] = {
    "openid": "Sign you in",
    "profile": "Your name and profile",
    "fhirUser": "Know which person in the record you are",
    "offline_access": "Stay signed in",
}


class YunyiScopes(SettingsScopes):
    def get_all_scopes(self) -> Any:
        return SCOPE_DESCRIPTIONS
