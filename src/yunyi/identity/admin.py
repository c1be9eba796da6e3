"""Admin for OAuth clients: django-oauth-toolkit's Application admin with our policy inline
(allowed scopes, introspection right, disabled) and actions to disable and enable clients."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from oauth2_provider.admin import ApplicationAdmin
from oauth2_provider.models import get_application_model

from yunyi.audit.services import audit_context_from_request, audit_record
from yunyi.identity.models import ClientPolicy
from yunyi.identity.scopes import is_known_scope, is_system_scope
from yunyi.identity.selectors import client_policy
from yunyi.identity.services import client_disable, client_enable

Application = get_application_model()


class ClientPolicyInline(admin.StackedInline):
    model = ClientPolicy
    can_delete = False
    extra = 1
    max_num = 1
    fields = ("allowed_scopes", "may_introspect_any", "launch_uri", "jwks", "disabled_at")
    # Keys are registered (checked: public, kid, RS384/ES384-capable) by `yunyi createclient`.
    readonly_fields = ("jwks", "disabled_at")


class ClientAdmin(ApplicationAdmin):
    inlines = [ClientPolicyInline]
    list_display = (
        "client_id",
        "name",
        "client_type",
        "authorization_grant_type",
        "skip_authorization",
        "allowed_scopes",
        "enabled",
    )
    list_select_related = ("yunyi_policy",)
    search_fields = ("name", "client_id")
    actions = ("disable_clients", "enable_clients")

    @admin.display(description=_("allowed scopes"))
    def allowed_scopes(self, obj: Any) -> str:
        policy = client_policy(obj)
        return policy.allowed_scopes if policy is not None else ""

    @admin.display(description=_("enabled"), boolean=True)
    def enabled(self, obj: Any) -> bool:
        policy = client_policy(obj)
        return policy is None or not policy.is_disabled

    @admin.action(description=_("Disable selected clients (revokes their tokens)"))
    def disable_clients(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        context = audit_context_from_request(request)
        for application in queryset:
            client_disable(application=application, context=context)
        count = queryset.count()
        self.message_user(
            request, ngettext("Disabled %d client.", "Disabled %d clients.", count) % count
        )

    @admin.action(description=_("Enable selected clients"))
    def enable_clients(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        context = audit_context_from_request(request)
        for application in queryset:
            client_enable(application=application, context=context)
        count = queryset.count()
        self.message_user(
            request, ngettext("Enabled %d client.", "Enabled %d clients.", count) % count
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        application = form.instance
        policy = client_policy(application)
        if policy is None:
            return
        names = policy.allowed_scope_list()
        bad = [s for s in names if not is_known_scope(s)]
        if application.client_type != Application.CLIENT_CONFIDENTIAL:
            bad += [s for s in names if is_system_scope(s)]
        if bad:
            # Unknown or misplaced scopes are dropped rather than stored: the validator would
            # never grant them anyway, and the admin should see that.
            policy.allowed_scopes = " ".join(s for s in names if s not in bad)
            policy.save(update_fields=["allowed_scopes", "updated"])
            self.message_user(
                request,
                _("Dropped scopes this client cannot have: %(scopes)s") % {"scopes": " ".join(bad)},
                level=messages.WARNING,
            )
        audit_record(
            context=audit_context_from_request(request),
            action="oauth.client_updated" if change else "oauth.client_registered",
            object_type="oauth_client",
            object_id=application.client_id,
            detail={"allowed_scopes": policy.allowed_scopes, "via": "admin"},
        )


admin.site.unregister(Application)
admin.site.register(Application, ClientAdmin)
