"""Language of the server's own pages (login, consent, logout): zh-hans by default, English.

The `django_language` cookie (set by the language links here and by the web app) wins; without
it the `ui_locales` hint of the authorization request (OIDC Core §3.1.2.1) picks the language,
then the browser's Accept-Language (Django's LocaleMiddleware).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

SUPPORTED = ("zh-hans", "en")


def language_from_tag(tag: str) -> str | None:
    """Map a BCP 47 tag (zh-CN, zh-Hans, zh, en-US, en) to one of our languages."""
    tag = tag.strip().lower().replace("_", "-")
    if tag == "zh" or tag.startswith(("zh-cn", "zh-hans", "zh-sg")):
        return "zh-hans"
    if tag == "en" or tag.startswith("en-"):
        return "en"
    return None


def activate_ui_locales(request: HttpRequest, ui_locales: str) -> None:
    """Honour a `ui_locales` hint for this response unless the user chose a language."""
    if not ui_locales or settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return
    for tag in ui_locales.split()[:10]:
        language = language_from_tag(tag)
        if language is not None:
            translation.activate(language)
            request.LANGUAGE_CODE = language
            return


def safe_next(request: HttpRequest, candidate: str | None, *, default: str = "/") -> str:
    """`candidate` when it is a path on this site, else `default`: never an open redirect."""
    if not candidate or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return default
    if not url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return default
    return candidate


@require_GET
def switch_language(request: HttpRequest, language: str) -> HttpResponseRedirect:
    """Set the language cookie and go back (a plain link: no script needed under our CSP)."""
    response = HttpResponseRedirect(safe_next(request, request.GET.get("next")))
    if language in SUPPORTED:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response
