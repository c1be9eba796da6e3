"""The Django admin, reachable only by admins who signed in with their second factor.

Django's own admin login form would let a staff password alone in; instead the admin sends people
to our sign-in page (password, then TOTP), which marks the session verified for django-otp.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _


class YunyiAdminSite(admin.AdminSite):
    site_header = _("Yunyi administration")
    site_title = _("Yunyi administration")
    index_title = _("Administration")

    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(super().has_permission(request) and user.is_verified())

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        next_url = request.GET.get("next") or request.path
        return HttpResponseRedirect(f"{settings.LOGIN_URL}?{urlencode({'next': next_url})}")


class YunyiAdminConfig(AdminConfig):
    default_site = "yunyi.core.admin_site.YunyiAdminSite"
