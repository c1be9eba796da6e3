"""Reads about OAuth clients, tokens and the claims we release about users."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist, ValidationError
from django.db import DEFAULT_DB_ALIAS, models
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_application_model

from yunyi.accounts.roles import Role
from yunyi.accounts.selectors import wards_of
from yunyi.core.compiled_query import CompiledQuery, Row
from yunyi.identity import token_cache
from yunyi.identity.models import ClientPolicy, LaunchContext
from yunyi.identity.scopes import DEFAULT_CLIENT_SCOPES


def token_checksum(value: str) -> str:
    """How DOT finds a token: with RFC 9700 token storage it keeps only this SHA-256."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def client_policy(application: Any) -> ClientPolicy | None:
    try:
        policy: ClientPolicy = application.yunyi_policy
    except ObjectDoesNotExist:
        return None
    return policy


def client_allowed_scopes(application: Any) -> list[str]:
    """The scopes an admin allowed this client; a client registered without a policy (e.g. by
    hand in DOT's tables) gets only the sign-in scopes."""
    policy = client_policy(application)
    return policy.allowed_scope_list() if policy is not None else list(DEFAULT_CLIENT_SCOPES)


def client_is_disabled(application: Any) -> bool:
    policy = client_policy(application)
    return policy is not None and policy.is_disabled


def client_jwks(application: Any) -> str:
    """The JWK Set (JSON) of a `private_key_jwt` client; "" for a client that uses a secret."""
    policy = client_policy(application)
    return policy.jwks if policy is not None else ""


def launch_patient_of_token(access_token: Any) -> str | None:
    """The patient an access token is bound to by a SMART launch (`launch/patient`), if any."""
    found: str | None = (
        LaunchContext.objects.filter(access_token=access_token)
        .values_list("patient_id", flat=True)
        .first()
    )
    return found


def client_may_introspect_any(application: Any) -> bool:
    policy = client_policy(application)
    return policy is not None and policy.may_introspect_any


def fhir_user_reference(*, user: Any) -> str | None:
    """The user's FHIR resource (the `fhirUser` claim, SMART App Launch §"fhirUser"): a
    Practitioner for clinicians, a Patient for patients. Placeholder ids until the record
    app links users to their resources."""
    roles = user.role_set()
    if Role.DOCTOR in roles or Role.PHARMACIST in roles:
        return f"Practitioner/{user.pk}"
    if Role.PATIENT in roles:
        return f"Patient/{user.pk}"
    return None


@dataclass(frozen=True)
class LaunchPatient:
    """A patient record a user may open in a SMART launch: their own or a ward's."""

    patient_id: str
    name: str
    own: bool


def launch_patients_for(*, user: Any) -> list[LaunchPatient]:
    """The records `user` may put in context at a `launch/patient` consent: their own Patient
    (when they are a patient) and their wards' (when a guardian); none for anyone else."""
    roles = user.role_set()
    found = []
    if Role.PATIENT in roles:
        name = user.display_name or user.get_full_name() or user.get_username()
        found.append(LaunchPatient(patient_id=str(user.pk), name=name, own=True))
    if Role.GUARDIAN in roles:
        found.extend(
            LaunchPatient(patient_id=ward.id, name=ward.legal_name, own=False)
            for ward in wards_of(guardian=user)
        )
    return found


def user_claims(*, user: Any) -> dict[str, Any]:
    """OpenID Connect claims beyond `sub`; the validator releases each only with its scope."""
    claims: dict[str, Any] = {
        "name": user.display_name or user.get_full_name() or user.get_username(),
        "preferred_username": user.get_username(),
        "roles": sorted(user.role_set()),
    }
    reference = fhir_user_reference(user=user)
    if reference is not None:
        claims["fhirUser"] = reference
    return claims


_AccessToken = get_access_token_model()
_Application = get_application_model()
_User = get_user_model()


@dataclass(frozen=True)
class _Loaded:
    """The fields of one model the token lookup loads, reached through `path` from the token, in
    the model's field order (what `Model.from_db` expects). Other fields stay deferred: reading
    one costs a query, so this lists what request handling reads."""

    model: type[models.Model]
    path: str
    fields: tuple[str, ...]

    @classmethod
    def of(cls, model: type[models.Model], path: str, fields: set[str]) -> _Loaded:
        unknown = fields - {field.attname for field in model._meta.concrete_fields}
        if unknown:
            raise ImproperlyConfigured(f"{model.__name__} has no fields {sorted(unknown)}")
        ordered = [f.attname for f in model._meta.concrete_fields if f.attname in fields]
        return cls(model=model, path=path, fields=tuple(ordered))

    @property
    def columns(self) -> list[str]:
        return [f"{self.path}{name}" for name in self.fields]

    def instance(self, row: Row) -> Any:
        values = [row[f"{self.path}{name}"] for name in self.fields]
        return self.model.from_db(DEFAULT_DB_ALIAS, self.fields, values)


_TOKEN = _Loaded.of(
    _AccessToken, "", {"id", "user_id", "application_id", "expires", "scope", "token_checksum"}
)
_USER = _Loaded.of(
    _User,
    "user__",
    {
        *("id", "username", "first_name", "last_name", "email", "phone", "display_name"),
        *("preferred_language", "is_active", "is_staff", "is_superuser"),
    },
)
_CLIENT = _Loaded.of(
    _Application,
    "application__",
    {
        *("id", "client_id", "name", "client_type", "authorization_grant_type"),
        *("skip_authorization", "algorithm"),
    },
)
_POLICY = _Loaded.of(
    ClientPolicy,
    "application__yunyi_policy__",
    {"id", "application_id", "allowed_scopes", "may_introspect_any", "disabled_at"},
)
_ROLE = "user__role_grants__role"
_LAUNCH_PATIENT = "yunyi_launch__patient_id"

# One row per role the user holds (one row with role None when they hold none).
_LIVE_TOKEN = CompiledQuery(
    lambda checksum, now: (
        _AccessToken.objects.filter(token_checksum=checksum)
        .filter(expires__gt=now)
        .values_list(
            *_TOKEN.columns,
            *_USER.columns,
            *_CLIENT.columns,
            *_POLICY.columns,
            _ROLE,
            _LAUNCH_PATIENT,
        )
    ),
    parameters=[
        _AccessToken._meta.get_field("token_checksum"),
        _AccessToken._meta.get_field("expires"),
    ],
)


def access_token_by_value(token: str) -> Any:
    """The live access token with this value, or None when unknown or expired; revoked tokens
    no longer exist. Its user (with their roles, so `user.role_set()` costs no query), its
    client, the client's policy and the token's launch patient (`launch_patient`) come in the
    same query, which is compiled once (`CompiledQuery`): this runs on every API request, so
    on PostgreSQL its rows are cached while change notifications keep them exact
    (`token_cache`)."""
    checksum = token_checksum(token)
    now = timezone.now()
    cache = token_cache.current()
    rows = None if cache is None else cache.get(checksum)
    if rows is None:
        generation = 0 if cache is None else cache.generation
        rows = _LIVE_TOKEN.rows(checksum, now)
        if cache is not None and rows:
            seconds = min(token_cache.cache_seconds(), (rows[0]["expires"] - now).total_seconds())
            cache.put(checksum, rows, seconds=seconds, generation=generation)
    elif rows[0]["expires"] <= now:
        return None
    if not rows:
        return None
    row = rows[0]
    access = _TOKEN.instance(row)
    # The SMART launch context (`launch/patient`) the token is bound to, or None.
    access.launch_patient = row[_LAUNCH_PATIENT]
    if access.user_id is not None:
        user = _USER.instance(row)
        # What `User.role_set()` reads before it would query.
        user._role_cache = frozenset(role for r in rows if (role := r[_ROLE]) is not None)
        access.user = user
    if access.application_id is not None:
        application = _CLIENT.instance(row)
        if row["application__yunyi_policy__id"] is None:
            # Remember that there is no policy, so reading it raises without a query.
            _Application.yunyi_policy.related.set_cached_value(application, None)  # type: ignore[attr-defined]
        else:
            application.yunyi_policy = _POLICY.instance(row)
        access.application = application
    return access


def client_display_name(client_id: str) -> str:
    """The name shown on the sign-in page for the client a login continues to ("" if none)."""
    if not client_id:
        return ""
    application = (
        get_application_model()
        .objects.filter(client_id=client_id)
        .only("name", "client_id")
        .first()
    )
    return (application.name or application.client_id) if application is not None else ""


def active_user(user_id: str) -> Any:
    """The active account with this id (a sign-in in progress), or None."""
    try:
        return get_user_model().objects.filter(pk=user_id, is_active=True).first()
    except (ValueError, ValidationError):
        return None
