"""`private_key_jwt` client authentication (RFC 7523 §2.2 and §3, OIDC Core §9) as SMART
Backend Services profiles it (SMART App Launch 2.0, "Backend Services" §"Authenticating to
the token endpoint"): the client proves itself with a short-lived JWT signed by a key whose
public half an admin registered (a JWK Set), instead of a shared secret.

Checks: `alg` is RS384 or ES384 (never `none` or an HMAC, whose "key" would be public), `kid`
names a registered key of the right type, the signature verifies, `iss` = `sub` = client id,
`aud` is our token endpoint, `exp` lies at most five minutes ahead, `jti` is present (the caller
remembers it to refuse a replay). Every failure is an `AssertionRefused` whose message tells the
client developer what to fix; it never says more than the client sent.

No Django import: the caller loads the client's keys and stores the `jti`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from jwcrypto import jwk, jws
from jwcrypto.common import JWException, base64url_decode

JWT_BEARER: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS: Final = ("RS384", "ES384")
MAX_ASSERTION_LENGTH: Final = 8192
MAX_LIFETIME_SECONDS: Final = 300
CLOCK_SKEW_SECONDS: Final = 30
MAX_JTI_LENGTH: Final = 255
MAX_KEYS: Final = 10
MIN_RSA_BITS: Final = 2048
_KEY_TYPES: Final = {"RS384": ("RSA", None), "ES384": ("EC", "P-384")}


class AssertionRefused(Exception):
    """The client assertion (or a JWK Set being registered) is not acceptable; `description`
    is safe to return to the client (`error_description`)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class VerifiedAssertion:
    client_id: str
    jti: str
    expires_at: int  # seconds since the epoch


def _deserialize(assertion: str) -> jws.JWS:
    if not assertion or len(assertion) > MAX_ASSERTION_LENGTH:
        raise AssertionRefused(
            f"client_assertion must be a JWT of at most {MAX_ASSERTION_LENGTH} characters."
        )
    if assertion.count(".") != 2:
        raise AssertionRefused("client_assertion is not a compact-serialized JWT.")
    token = jws.JWS()
    try:
        token.deserialize(assertion)
        header = token.jose_header
    except (JWException, ValueError, TypeError, KeyError) as exc:
        raise AssertionRefused("client_assertion is not a well-formed JWT.") from exc
    if not isinstance(header, dict):
        raise AssertionRefused("client_assertion is not a well-formed JWT.")
    return token


def _unverified_claims(token: jws.JWS) -> dict[str, Any]:
    try:
        claims = json.loads(token.objects["payload"])
    except (KeyError, ValueError, TypeError) as exc:
        raise AssertionRefused("The client_assertion's claims are not a JSON object.") from exc
    if not isinstance(claims, dict):
        raise AssertionRefused("The client_assertion's claims are not a JSON object.")
    return claims


def assertion_issuer(assertion: str) -> str:
    """The `iss` of an assertion, read before its signature is checked: it names the client
    whose keys will check it."""
    issuer = _unverified_claims(_deserialize(assertion)).get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise AssertionRefused("The client_assertion has no iss (the client id).")
    return issuer


def _key_for(header: dict[str, Any], jwks_json: str) -> tuple[jwk.JWK, str]:
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise AssertionRefused(
            f"The client_assertion's alg {str(algorithm)[:20]!r} is not accepted: sign with "
            f"{' or '.join(ALGORITHMS)}."
        )
    typ = header.get("typ")
    if typ is not None and str(typ).upper() != "JWT":
        raise AssertionRefused("The client_assertion's typ must be JWT.")
    if "crit" in header:
        raise AssertionRefused("The client_assertion's header may not carry crit.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise AssertionRefused("The client_assertion's header must name its key (kid).")
    key = jwk.JWKSet.from_json(jwks_json).get_key(kid)
    if key is None:
        raise AssertionRefused(f"No key registered for this client has kid {kid[:64]!r}.")
    kty, curve = _KEY_TYPES[algorithm]
    if key.get("kty") != kty or (curve is not None and key.get("crv") != curve):
        raise AssertionRefused(f"The key {kid[:64]!r} cannot sign {algorithm}.")
    if key.get("alg") not in (None, algorithm):
        raise AssertionRefused(f"The key {kid[:64]!r} is registered for {key.get('alg')}.")
    return key, algorithm


def _check_claims(
    claims: dict[str, Any], *, client_id: str, audiences: Iterable[str], now: float
) -> VerifiedAssertion:
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise AssertionRefused("The client_assertion's iss and sub must both be the client id.")
    audience = claims.get("aud")
    offered = [audience] if isinstance(audience, str) else audience
    accepted = set(audiences)
    if not isinstance(offered, list) or not any(
        isinstance(a, str) and a in accepted for a in offered
    ):
        raise AssertionRefused(
            f"The client_assertion's aud must be this server's token endpoint "
            f"({sorted(accepted)[-1] if accepted else ''})."
        )
    expires = claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise AssertionRefused("The client_assertion has no numeric exp.")
    if expires <= now - CLOCK_SKEW_SECONDS:
        raise AssertionRefused("The client_assertion has expired.")
    if expires > now + MAX_LIFETIME_SECONDS + CLOCK_SKEW_SECONDS:
        raise AssertionRefused(
            f"The client_assertion's exp may be at most {MAX_LIFETIME_SECONDS} seconds ahead."
        )
    not_before = claims.get("nbf")
    if isinstance(not_before, int | float) and not_before > now + CLOCK_SKEW_SECONDS:
        raise AssertionRefused("The client_assertion is not valid yet (nbf).")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI_LENGTH:
        raise AssertionRefused(
            f"The client_assertion needs a jti of 1 to {MAX_JTI_LENGTH} characters."
        )
    return VerifiedAssertion(client_id=client_id, jti=jti, expires_at=int(expires))


def verify_assertion(
    assertion: str,
    *,
    client_id: str,
    jwks_json: str,
    audiences: Iterable[str],
    now: float,
) -> VerifiedAssertion:
    """Check a client assertion of `client_id` against its registered JWK Set (RFC 7523 §3)."""
    token = _deserialize(assertion)
    key, algorithm = _key_for(token.jose_header, jwks_json)
    token.allowed_algs = [algorithm]
    try:
        token.verify(key, alg=algorithm)
    except (JWException, ValueError, TypeError) as exc:
        raise AssertionRefused("The client_assertion's signature is not valid.") from exc
    return _check_claims(
        _unverified_claims(token), client_id=client_id, audiences=audiences, now=now
    )


def _checked_key(entry: Any, seen: set[str]) -> dict[str, Any]:
    if not isinstance(entry, dict):
        raise AssertionRefused("Each key of the JWK Set must be a JSON object.")
    try:
        key = jwk.JWK(**entry)
    except (JWException, ValueError, TypeError) as exc:
        raise AssertionRefused(f"A key of the JWK Set is not a valid JWK: {exc}") from exc
    if key.has_private:
        raise AssertionRefused("The JWK Set contains a private key: register only the public keys.")
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid or kid in seen:
        raise AssertionRefused("Each key of the JWK Set needs its own kid.")
    seen.add(kid)
    if entry.get("use") not in (None, "sig"):
        raise AssertionRefused(f"The key {kid!r} must be a signing key (use sig).")
    if entry.get("alg") not in (None, *ALGORITHMS):
        raise AssertionRefused(f"The key {kid!r} must be for {' or '.join(ALGORITHMS)}.")
    kty = entry.get("kty")
    if kty == "RSA":
        if len(base64url_decode(entry["n"])) * 8 < MIN_RSA_BITS:
            raise AssertionRefused(f"The RSA key {kid!r} is shorter than {MIN_RSA_BITS} bits.")
    elif not (kty == "EC" and entry.get("crv") == "P-384"):
        raise AssertionRefused(f"The key {kid!r} must be RSA or EC P-384.")
    return dict(key.export_public(as_dict=True)) | {
        name: entry[name] for name in ("alg", "use") if name in entry
    }


def public_jwks(text: str) -> str:
    """Check a JWK Set being registered for a client (public RSA ≥ 2048-bit or EC P-384 signing
    keys, each with its own `kid`) and return it as compact JSON."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise AssertionRefused("The JWK Set is not valid JSON.") from exc
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not 1 <= len(keys) <= MAX_KEYS:
        raise AssertionRefused(f"A JWK Set needs a keys list of 1 to {MAX_KEYS} keys.")
    seen: set[str] = set()
    checked = [_checked_key(entry, seen) for entry in keys]
    return json.dumps({"keys": checked}, separators=(",", ":"), sort_keys=True)
