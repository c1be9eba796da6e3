"""Security headers Django's SecurityMiddleware does not set (Django 5.2 has no CSP), and a lean
path through the middleware for APIs authenticated by bearer tokens alone."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.locale import LocaleMiddleware
from django.urls import Resolver404, get_resolver


class ProxiedClientMiddleware:
    """Behind the proxy (`settings.BEHIND_PROXY`), the client's address is the one nginx puts in
    X-Real-IP: the app itself only sees nginx's socket (no address at all on a Unix socket), and
    audit entries and per-address sign-in throttling need the client's. The header is trusted
    only because the proxy overwrites it; anything that is not one IP address is ignored."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.enabled: bool = getattr(settings, "BEHIND_PROXY", False)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.enabled:
            forwarded = request.META.get("HTTP_X_REAL_IP", "")
            with contextlib.suppress(ValueError):  # not one address: keep the socket's
                request.META["REMOTE_ADDR"] = str(ipaddress.ip_address(forwarded.strip()))
        return self.get_response(request)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp: str = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", self.csp)
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        response.setdefault(
            "Permissions-Policy", "camera=(self), microphone=(self), geolocation=(self)"
        )
        return response


class BearerApiMiddleware:
    """Requests under `settings.BEARER_API_PREFIXES` (the FHIR API: bearer tokens only, never
    cookies, every view CSRF-exempt) skip the middleware after this one that serves cookie
    sessions — sessions, CSRF, authentication, OTP, messages, CommonMiddleware's redirects.
    They keep the locale (Accept-Language picks the language of an OperationOutcome) and
    X-Frame-Options; the security headers come from the middleware before this one, and the
    Host is still checked against ALLOWED_HOSTS. `request.user` is anonymous: the token names
    the actor. A path under a prefix that no URL matches takes the usual way."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.prefixes = tuple(getattr(settings, "BEARER_API_PREFIXES", ()))
        self.lean = cast(
            Callable[[HttpRequest], HttpResponse],
            LocaleMiddleware(XFrameOptionsMiddleware(self._view)),
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.prefixes or not request.path_info.startswith(self.prefixes):
            return self.get_response(request)
        try:
            request.resolver_match = get_resolver().resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        # What CommonMiddleware would check first: a Host outside ALLOWED_HOSTS is a 400.
        request.get_host()
        request.user = AnonymousUser()
        return self.lean(request)

    @staticmethod
    def _view(request: HttpRequest) -> HttpResponse:
        match = request.resolver_match
        assert match is not None
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        return response
