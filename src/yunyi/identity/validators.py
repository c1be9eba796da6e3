"""OAuth 2.0 request validation (RFC 6749, RFC 7636) beyond DOT's defaults."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator


class YunyiOAuth2Validator(OAuth2Validator):
    pass
