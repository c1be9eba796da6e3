"""What Yunyi adds to django-oauth-toolkit's clients: a per-client policy, and a memory of
redeemed authorization codes so a replayed code can revoke what it bought (RFC 6749 §4.1.2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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
