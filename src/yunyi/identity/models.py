"""What Yunyi adds to django-oauth-toolkit's clients: a per-client policy (with the public keys of
a `private_key_jwt` client), a memory of redeemed authorization codes so a replayed code can
revoke what it bought (RFC 6749 §4.1.2), of used client-assertion `jti`s (replay, RFC 7523 §3),
and the SMART launch context bound to codes and tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings


class ClientPolicy(models.Model):
    """An admin's decisions about one OAuth client (one-to-one with DOT's Application)."""

    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="yunyi_policy",
        verbose_name=_("client"),
    )
    allowed_scopes = models.TextField(
        _("allowed scopes"),
        blank=True,
        help_text=_(
            "Space-separated scopes this client may be granted; a SMART scope also allows any "
            "narrower one (patient/*.cruds allows patient/Observation.rs). system/ scopes take "
            "effect only for confidential clients."
        ),
    )
    may_introspect_any = models.BooleanField(
        _("may introspect any token"),
        default=False,
        help_text=_(
            "A resource server that may introspect tokens issued to other clients (RFC 7662). "
            "Without it a client may introspect only its own tokens."
        ),
    )
    jwks = models.TextField(
        _("public keys (JWK Set)"),
        blank=True,
        help_text=_(
            "A JSON Web Key Set of public keys: the client authenticates with a JWT signed by "
            "one of them (private_key_jwt, SMART Backend Services) instead of a secret."
        ),
    )
    launch_uri = models.URLField(
        _("launch URL"),
        blank=True,
        max_length=500,
        help_text=_(
            "SMART EHR launch: doctors can open this app from a patient's chart; it is called "
            "with iss and launch parameters. Empty: the app cannot be launched from the chart."
        ),
    )
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("client policy")
        verbose_name_plural = _("client policies")

    def __str__(self) -> str:
        return f"policy of client #{self.application_id}"

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None

    def allowed_scope_list(self) -> list[str]:
        return self.allowed_scopes.split()


class RedeemedAuthorizationCode(models.Model):
    """A used authorization code (its SHA-256, never the code) and the tokens it bought, kept
    while those tokens can live: a second use of the code revokes them."""

    code_checksum = models.CharField(max_length=64, unique=True)
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    access_token_checksum = models.CharField(max_length=64)
    token_family = models.UUIDField(null=True, blank=True)
    expires = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"redeemed code #{self.pk}"


class UsedClientAssertion(models.Model):
    """A client assertion's `jti` seen at the token endpoint, kept until the assertion expires:
    the unique constraint refuses a second use, also under concurrency."""

    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    jti = models.CharField(max_length=255)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "jti"], name="identity_jti_once")
        ]

    def __str__(self) -> str:
        return f"used client assertion #{self.pk}"


class LaunchContext(models.Model):
    """The patient in context of a SMART standalone launch (`launch/patient`), chosen at consent
    and bound to the authorization code, then to each access and refresh token it buys: exactly
    one of the three links is set. (`swappable=False`: the project uses DOT's own token models
    and does not name them in settings.)"""

    patient_id = models.CharField(max_length=64)
    grant = models.OneToOneField(
        oauth2_settings.GRANT_MODEL,
        on_delete=models.CASCADE,
        null=True,
        related_name="yunyi_launch",
        swappable=False,
    )
    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        on_delete=models.CASCADE,
        null=True,
        related_name="yunyi_launch",
        swappable=False,
    )
    refresh_token = models.OneToOneField(
        oauth2_settings.REFRESH_TOKEN_MODEL,
        on_delete=models.CASCADE,
        null=True,
        related_name="yunyi_launch",
        swappable=False,
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(
                        grant__isnull=False, access_token__isnull=True, refresh_token__isnull=True
                    )
                    | models.Q(
                        grant__isnull=True, access_token__isnull=False, refresh_token__isnull=True
                    )
                    | models.Q(
                        grant__isnull=True, access_token__isnull=True, refresh_token__isnull=False
                    )
                ),
                name="identity_launch_context_one_link",
            )
        ]

    def __str__(self) -> str:
        return f"launch context #{self.pk}"


class EhrLaunch(models.Model):
    """A SMART EHR launch (SMART App Launch 2.0 §"EHR launch"): a doctor opened an app from a
    patient's chart. The opaque `launch` id given to the app is stored only as its SHA-256; it is
    short-lived, for one client and one user, and used once at /o/authorize."""

    launch_checksum = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    patient_id = models.CharField(max_length=64)
    expires = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"EHR launch #{self.pk}"
