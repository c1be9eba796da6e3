"""The server's sign-in page (`settings.LOGIN_URL`, /o/login/).

Steps: account and password; then, for whoever must use a second factor, the TOTP code, or for
staff without a confirmed device, TOTP enrolment (QR code) and its first code. Only when every
step passed is the Django session signed in and `auth.login` audited. Between steps the session
holds just the pending user's id, the stage and a deadline. CSRF protection is Django's; `next`
is followed only to a path on this site.
"""

from __future__ import annotations

import math
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import devices_for_user
from django_otp import login as otp_login

from yunyi.accounts import services as accounts
from yunyi.audit.services import AuditContext, audit_record
from yunyi.core.errors import ApplicationError
from yunyi.identity.forms import CodeStepForm, PasswordStepForm
from yunyi.identity.language import activate_ui_locales, safe_next
from yunyi.identity.selectors import active_user, client_display_name
from yunyi.identity.services import WEB_CLIENT_ID

PENDING_KEY = "identity.pending_login"
PENDING_SECONDS = 300
MAX_ENROL_TRIES = 5
# Our own clients are named in the reader's language; third-party clients as they registered.
FIRST_PARTY_CLIENT_NAMES = {WEB_CLIENT_ID: gettext_lazy("Yunyi web app")}


def _address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", "") or "")


def _next_query(next_url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(next_url).query)


def _error_message(error: ApplicationError) -> str:
    if error.status == 429:
        details = error.details if isinstance(error.details, dict) else {}
        seconds = max(1, int(details.get("retry_after", 60)))
        if seconds < 120:
            return ngettext(
                "Too many attempts. Try again in %(count)d second.",
                "Too many attempts. Try again in %(count)d seconds.",
                seconds,
            ) % {"count": seconds}
        minutes = math.ceil(seconds / 60)
        return ngettext(
            "Too many attempts. Try again in %(count)d minute.",
            "Too many attempts. Try again in %(count)d minutes.",
            minutes,
        ) % {"count": minutes}
    return error.message


def _client_name(next_url: str) -> str:
    client_id = (_next_query(next_url).get("client_id") or [""])[0]
    registered = client_display_name(client_id)
    if registered and client_id in FIRST_PARTY_CLIENT_NAMES:
        return str(FIRST_PARTY_CLIENT_NAMES[client_id])
    return registered


def _render(
    request: HttpRequest,
    *,
    stage: str,
    next_url: str,
    form: Any = None,
    error: str = "",
    status: int = 200,
    enrolment: dict[str, str] | None = None,
) -> HttpResponse:
    if form is None:
        form = PasswordStepForm() if stage == "password" else CodeStepForm()
    context = {
        "stage": stage,
        "form": form,
        "next": next_url,
        "error": error,
        "enrolment": enrolment,
        # Switching language restarts the sign-in at its first step, keeping where it leads.
        "language_return": f"{reverse('identity-login')}?{urlencode({'next': next_url})}",
        "client_name": _client_name(next_url),
    }
    return render(request, "identity/login.html", context, status=status)


def _pending(request: HttpRequest) -> tuple[dict[str, Any], Any] | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("expires", 0) < time.time():
        request.session.pop(PENDING_KEY, None)
        return None
    user = active_user(str(pending.get("user_id", "")))
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return None
    return pending, user


def _complete(
    request: HttpRequest, *, user: Any, next_url: str, second_factor: str
) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    if second_factor != "none":
        # Mark the session verified for django-otp: the admin site requires it of staff.
        device = next(iter(devices_for_user(user, confirmed=True)), None)
        if device is not None:
            otp_login(request, device)
    client_id = (_next_query(next_url).get("client_id") or [""])[0][:128]
    audit_record(
        context=AuditContext(actor_id=str(user.pk), client_id=client_id, address=_address(request)),
        action="auth.login",
        object_type="user",
        object_id=str(user.pk),
        detail={"second_factor": second_factor},
    )
    return HttpResponseRedirect(next_url)


def _password_step(request: HttpRequest, next_url: str) -> HttpResponse:
    form = PasswordStepForm(request.POST)
    if not form.is_valid():
        return _render(request, stage="password", next_url=next_url, form=form, status=400)
    try:
        user = accounts.password_login(
            identifier=form.cleaned_data["identifier"],
            password=form.cleaned_data["password"],
            address=_address(request),
        )
    except ApplicationError as error:
        blank = PasswordStepForm(initial={"identifier": form.cleaned_data["identifier"]})
        return _render(
            request,
            stage="password",
            next_url=next_url,
            form=blank,
            error=_error_message(error),
            status=error.status,
        )
    if not accounts.mfa_required(user=user):
        return _complete(request, user=user, next_url=next_url, second_factor="none")
    pending: dict[str, Any] = {
        "user_id": str(user.pk),
        "expires": time.time() + PENDING_SECONDS,
        "tries": 0,
    }
    if accounts.totp_confirmed(user=user):
        pending["stage"] = "totp"
        request.session[PENDING_KEY] = pending
        return _render(request, stage="totp", next_url=next_url)
    enrolment = accounts.totp_enrol_begin(user=user)
    pending["stage"] = "enrol"
    # The QR code and secret are shown again if the first code is mistyped; they already live
    # in django-otp's device table, and the pending login expires in minutes.
    pending["enrolment"] = {"secret": enrolment.secret_base32, "qr_svg": enrolment.qr_svg}
    request.session[PENDING_KEY] = pending
    return _render(request, stage="enrol", next_url=next_url, enrolment=pending["enrolment"])


def _code_step(request: HttpRequest, next_url: str, stage: str) -> HttpResponse:
    found = _pending(request)
    if found is None or found[0].get("stage") != stage:
        return _render(
            request,
            stage="password",
            next_url=next_url,
            error=_("Your sign-in took too long. Please start again."),
            status=400,
        )
    pending, user = found
    enrolment = pending.get("enrolment") if stage == "enrol" else None
    form = CodeStepForm(request.POST)
    if not form.is_valid():
        return _render(
            request, stage=stage, next_url=next_url, form=form, enrolment=enrolment, status=400
        )
    code = form.cleaned_data["code"]
    try:
        if stage == "totp":
            accounts.totp_login_verify(user=user, code=code, address=_address(request))
        else:
            context = AuditContext(actor_id=str(user.pk), address=_address(request))
            accounts.totp_enrol_confirm(user=user, code=code, context=context)
    except ApplicationError as error:
        pending["tries"] = int(pending.get("tries", 0)) + 1
        if stage == "enrol" and pending["tries"] >= MAX_ENROL_TRIES:
            request.session.pop(PENDING_KEY, None)
            return _render(
                request,
                stage="password",
                next_url=next_url,
                error=_("Too many wrong codes. Please start again."),
                status=400,
            )
        request.session[PENDING_KEY] = pending
        return _render(
            request,
            stage=stage,
            next_url=next_url,
            enrolment=enrolment,
            error=_error_message(error),
            status=error.status,
        )
    second_factor = "totp" if stage == "totp" else "totp_enrolled"
    return _complete(request, user=user, next_url=next_url, second_factor=second_factor)


@sensitive_post_parameters("password", "code")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    raw_next = request.POST.get("next") if request.method == "POST" else request.GET.get("next")
    next_url = safe_next(request, raw_next, default=settings.LOGIN_REDIRECT_URL)
    activate_ui_locales(request, " ".join(_next_query(next_url).get("ui_locales", [])))
    if request.method == "GET":
        if request.user.is_authenticated:
            return HttpResponseRedirect(next_url)
        request.session.pop(PENDING_KEY, None)
        return _render(request, stage="password", next_url=next_url)
    step = request.POST.get("step", "password")
    if step in ("totp", "enrol"):
        return _code_step(request, next_url, step)
    return _password_step(request, next_url)
