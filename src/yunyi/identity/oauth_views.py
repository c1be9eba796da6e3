"""Our subclasses of django-oauth-toolkit's endpoints: stricter checks, our templates, audit."""

from __future__ import annotations

import calendar
import json
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from oauth2_provider import views as dot_views
from oauth2_provider.compat import login_not_required
from oauth2_provider.exceptions import OAuthToolkitError
from oauth2_provider.models import (
    AbstractApplication,
    get_access_token_model,
    get_application_model,
)
from oauth2_provider.views.mixins import OAuthLibMixin
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.oauth2.rfc6749 import errors as oauth_errors

from yunyi.identity.client_assertion import ALGORITHMS
from yunyi.identity.ehr_launch import LaunchRefused, ehr_launch_patient, ehr_launch_redeem
from yunyi.identity.forms import LaunchAllowForm
from yunyi.identity.language import activate_ui_locales
from yunyi.identity.scopes import LAUNCH_PATIENT_SCOPE, LAUNCH_SCOPE, describe_scope
from yunyi.identity.selectors import (
    client_is_disabled,
    client_may_introspect_any,
    launch_patient_of_token,
    launch_patients_for,
    token_checksum,
)
from yunyi.identity.token_audit import (
    presented_grant,
    record_logout,
    record_revocations,
    record_token_response,
    revocation_targets,
)
from yunyi.identity.validators import LAUNCH_PATIENT_ATTRIBUTE


class _PatientChoiceNeeded(Exception):
    """A pre-approved `launch/patient` request of someone with several records to choose from:
    the consent page must ask which one."""


def _launch_error(message: str, credentials: dict[str, Any]) -> OAuthToolkitError:
    return OAuthToolkitError(
        error=oauth_errors.InvalidRequestError(description=message, state=credentials.get("state")),
        redirect_uri=credentials["redirect_uri"],
    )


class AuthorizationView(dot_views.AuthorizationView):
    """The authorization endpoint (RFC 6749 §4.1.1) with our consent page.

    Requests are validated before anyone is asked to sign in, so a bad client or redirect URI
    shows an error page at once and never redirects (RFC 6749 §4.1.2.1), and PKCE must use
    S256: "plain" (also the default when a challenge comes without a method) is refused with
    `invalid_request` (RFC 7636 §4.4.1, RFC 9700 §2.1.1).

    SMART standalone launch (`launch/patient`, SMART App Launch 2.0 §"Standalone launch"): the
    consent page asks which record the app opens (the user's own or a ward's); with one
    candidate it is that one, even for pre-approved clients; a user with none (e.g. a doctor)
    gets `invalid_request` with a description back at the app.

    SMART EHR launch (`launch` with a `launch` id from /api/v1/smart/launches): the id must be
    pending, for this client and for the signed-in user; the consent page names the patient
    (no choice) and allowing redeems the id once. Anything wrong is `invalid_request`.
    """

    template_name = "identity/consent.html"
    form_class = LaunchAllowForm
    _chosen_launch_patient: str | None = None
    _ehr_launch_patient: str = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        activate_ui_locales(request, request.GET.get("ui_locales", ""))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response: HttpResponse = super().get(request, *args, **kwargs)
        except _PatientChoiceNeeded:
            return self.render_to_response(self.get_context_data(**self.oauth2_data))
        return response

    def validate_authorization_request(
        self, request: HttpRequest
    ) -> tuple[list[str], dict[str, Any]]:
        scopes, credentials = super().validate_authorization_request(request)
        if credentials.get("code_challenge") and credentials.get("code_challenge_method") != "S256":
            raise OAuthToolkitError(
                error=oauth_errors.InvalidRequestError(
                    description="code_challenge_method must be S256.",
                    state=credentials.get("state"),
                ),
                redirect_uri=credentials["redirect_uri"],
            )
        user = request.user
        if LAUNCH_SCOPE in scopes:
            if user.is_authenticated:
                self._ehr_launch_patient = self._checked_ehr_launch(
                    request, credentials, redeem=False
                )
            return scopes, credentials
        if (
            LAUNCH_PATIENT_SCOPE in scopes
            and user.is_authenticated
            and not launch_patients_for(user=user)
        ):
            raise _launch_error(
                "launch/patient needs a patient record in context, and this account has none "
                "(neither its own nor a ward's): sign in as the patient or their guardian, or "
                "ask without launch/patient.",
                credentials,
            )
        return scopes, credentials

    def _launch_id(self, request: HttpRequest) -> str:
        source = request.POST if request.method == "POST" else request.GET
        return str(source.get("launch", ""))

    def _checked_ehr_launch(
        self, request: HttpRequest, credentials: dict[str, Any], *, redeem: bool
    ) -> str:
        """The patient of the EHR launch named by the request's `launch` id (used up when
        `redeem`); `invalid_request` back at the app when it cannot be honoured."""
        application = (
            get_application_model().objects.filter(client_id=credentials.get("client_id")).first()
        )
        check = ehr_launch_redeem if redeem else ehr_launch_patient
        try:
            if application is None:
                raise LaunchRefused("Unknown client.")
            return check(
                launch_id=self._launch_id(request), application=application, user=request.user
            )
        except LaunchRefused as refused:
            raise _launch_error(refused.description, credentials) from refused

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = super().get_initial()
        initial["launch"] = self.request.GET.get("launch", "")
        return initial

    def form_invalid(self, form: Any) -> HttpResponse:
        # A consent form that fails validation was tampered with (the page sends only hidden
        # fields and known values): an error page, never the consent page without its context.
        error = oauth_errors.InvalidRequestError(description="The consent form is not valid.")
        context = {"error": error, "error_title": error_title(error)}
        return self.render_to_response(context, status=400)

    def form_valid(self, form: Any) -> HttpResponse:
        self._chosen_launch_patient = form.cleaned_data.get("launch_patient") or ""
        return super().form_valid(form)  # type: ignore[no-any-return]

    def create_authorization_response(
        self, request: HttpRequest, scopes: str, credentials: dict[str, Any], allow: bool
    ) -> Any:
        if allow and LAUNCH_SCOPE in str(scopes).split():
            credentials = {
                **credentials,
                LAUNCH_PATIENT_ATTRIBUTE: self._checked_ehr_launch(
                    request, credentials, redeem=True
                ),
            }
        elif allow and LAUNCH_PATIENT_SCOPE in str(scopes).split():
            credentials = {
                **credentials,
                LAUNCH_PATIENT_ATTRIBUTE: self._launch_patient(request, credentials),
            }
        return super().create_authorization_response(request, scopes, credentials, allow)

    def _launch_patient(self, request: HttpRequest, credentials: dict[str, Any]) -> str:
        """The patient id the app opens: the one chosen on the consent page (it must be one
        the user may open), else the only one there is."""
        candidates = [p.patient_id for p in launch_patients_for(user=request.user)]
        chosen = self._chosen_launch_patient
        if chosen:
            if chosen not in candidates:
                raise _launch_error(
                    "The chosen patient record is not one this account may open.", credentials
                )
            return chosen
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise _launch_error("This account has no patient record to open.", credentials)
        if chosen is None:
            raise _PatientChoiceNeeded
        raise _launch_error("Choose the patient record the application may open.", credentials)

    def handle_no_permission(self) -> HttpResponse:
        prompt = set(self.request.GET.get("prompt", "").split())
        if not prompt & {"none", "create"}:
            try:
                self.validate_authorization_request(self.request)
            except OAuthToolkitError as error:
                return self.error_response(error, application=None)
        return super().handle_no_permission()

    def error_response(
        self, error: OAuthToolkitError, application: Any, **kwargs: Any
    ) -> HttpResponse:
        title = error_title(error.oauthlib_error)
        return super().error_response(error, application, error_title=title, **kwargs)  # type: ignore[no-any-return]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        scopes = context.get("scopes") or []
        context["scope_items"] = [(scope, describe_scope(scope)) for scope in scopes]
        if LAUNCH_SCOPE in scopes and self.request.user.is_authenticated:
            context["ehr_launch_patient"] = self._ehr_launch_patient
        elif LAUNCH_PATIENT_SCOPE in scopes and self.request.user.is_authenticated:
            context["launch_patients"] = launch_patients_for(user=self.request.user)
        return context


class TokenView(dot_views.TokenView):
    """The token endpoint (RFC 6749 §3.2): issue, refresh and client credentials, audited in
    the same transaction as the tokens."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic():
            presented = presented_grant(request)
            _url, headers, body, status = self.create_token_response(request)
            record_token_response(request, presented=presented, status=status, body=body or "")
        response = HttpResponse(content=body, status=status)
        for name, value in headers.items():
            response[name] = value
        return response


class RevokeTokenView(dot_views.RevokeTokenView):
    """Token revocation (RFC 7009). A client can revoke only its own tokens."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with transaction.atomic():
            targets = revocation_targets(request)
            response: HttpResponse = super().post(request, *args, **kwargs)
            if response.status_code == 200 and targets:
                record_revocations(request, targets=targets)
        return response


def _invalid_client(description: str = "Client authentication failed.") -> JsonResponse:
    response = JsonResponse(
        {"error": "invalid_client", "error_description": description},
        status=401,
    )
    response["WWW-Authenticate"] = 'Basic realm="yunyi"'
    return response


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class IntrospectTokenView(OAuthLibMixin, View):
    """Token introspection (RFC 7662) for confidential clients, authenticated with their
    credentials (HTTP Basic or form body; bearer tokens are not accepted here).

    A client learns about its own tokens only: for any other client's token it gets
    `{"active": false}`, unless an admin marked it a resource server that may introspect any
    token (`ClientPolicy.may_introspect_any`).
    """

    http_method_names = ["post", "options"]

    def _authenticated_client(self, request: HttpRequest) -> Any:
        core = self.get_oauthlib_core()
        uri, method, body, headers = core._extract_params(request)
        oauth_request = OAuthlibRequest(uri, method, body, headers)
        if not core.server.request_validator.authenticate_client(oauth_request):
            return None
        return oauth_request.client

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            client = self._authenticated_client(request)
        except oauth_errors.InvalidClientError as refused:
            return _invalid_client(refused.description or "Client authentication failed.")
        if client is None or client.client_type != AbstractApplication.CLIENT_CONFIDENTIAL:
            return _invalid_client()
        value = request.POST.get("token")
        if not value:
            return JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "The token parameter is missing.",
                },
                status=400,
            )
        token = (
            get_access_token_model()
            .objects.select_related("application")
            .filter(token_checksum=token_checksum(value))
            .first()
        )
        inactive = JsonResponse({"active": False})
        if token is None or not token.is_valid() or token.application is None:
            return inactive
        if token.application_id != client.pk and not client_may_introspect_any(client):
            return inactive
        if client_is_disabled(token.application):
            return inactive
        data: dict[str, Any] = {
            "active": True,
            "scope": token.scope,
            "client_id": token.application.client_id,
            "token_type": "Bearer",
            "exp": int(calendar.timegm(token.expires.utctimetuple())),
            "iat": int(calendar.timegm(token.created.utctimetuple())),
        }
        if token.user_id is not None:
            data["sub"] = str(token.user_id)
        patient_id = launch_patient_of_token(token)
        if patient_id is not None:
            data["patient"] = patient_id
        return JsonResponse(data)


class ConnectDiscoveryInfoView(dot_views.ConnectDiscoveryInfoView):
    """OpenID Provider metadata, plus the RFC 8414 endpoints OIDC discovery leaves out."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["revocation_endpoint"] = self._get_endpoint_url(request, "revoke-token", required=True)
        data["introspection_endpoint"] = self._get_endpoint_url(
            request, "introspect", required=True
        )
        data["grant_types_supported"] = [
            "authorization_code",
            "refresh_token",
            "client_credentials",
        ]
        data["revocation_endpoint_auth_methods_supported"] = [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ]
        data["introspection_endpoint_auth_methods_supported"] = [
            "client_secret_basic",
            "client_secret_post",
        ]
        data["token_endpoint_auth_signing_alg_values_supported"] = list(ALGORITHMS)
        data["ui_locales_supported"] = ["zh-CN", "en"]
        # ID tokens are signed with our RSA key only; HS256 (client secret as key) is not offered.
        data["id_token_signing_alg_values_supported"] = ["RS256"]
        data["scopes_supported"] = sorted(data["scopes_supported"])
        fresh = JsonResponse(data)
        fresh["Access-Control-Allow-Origin"] = "*"
        return fresh


class OAuthServerMetadataView(dot_views.OAuthServerMetadataView):
    """RFC 8414 metadata, naming the algorithms `private_key_jwt` assertions may use (§2)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["token_endpoint_auth_signing_alg_values_supported"] = list(ALGORITHMS)
        fresh = JsonResponse(data)
        for name in ("Access-Control-Allow-Origin", "Cache-Control"):
            if name in response:
                fresh[name] = response[name]
        return fresh


class UserInfoView(dot_views.UserInfoView):
    """OpenID Connect userinfo. The token comes in the Authorization header (or a form body),
    never in the URL, where logs and referrers would keep it (RFC 9700 §4.3.2)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "access_token" in request.GET:
            return JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "Send the access token in the Authorization header.",
                },
                status=400,
            )
        return super().dispatch(request, *args, **kwargs)  # type: ignore[no-any-return]


class RPInitiatedLogoutView(dot_views.RPInitiatedLogoutView):
    """OpenID Connect RP-initiated logout: ends the server session, deletes the user's tokens
    of the client, and goes back to a registered post-logout URI only."""

    template_name = "identity/logout_confirm.html"

    def do_logout(
        self,
        application: Any = None,
        post_logout_redirect_uri: str | None = None,
        state: str | None = None,
        token_user: Any = None,
    ) -> HttpResponse:
        user = token_user or self.request.user
        if not isinstance(user, AnonymousUser) and user is not None:
            record_logout(
                self.request, user=user, client_id=application.client_id if application else ""
            )
        return super().do_logout(application, post_logout_redirect_uri, state, token_user)


def error_title(error: Any) -> str:
    """A readable title for an OAuth error shown on our pages (several oauthlib errors share
    the code `invalid_request`, so the error class decides)."""
    unknown_client = _("This application is not known.")
    bad_return = _("The application's return address is not registered.")
    titles = {
        "InvalidClientIdError": unknown_client,
        "MissingClientIdError": unknown_client,
        "InvalidClientError": unknown_client,
        "MismatchingRedirectURIError": bad_return,
        "InvalidRedirectURIError": bad_return,
        "MissingRedirectURIError": bad_return,
        "InvalidScopeError": _("The application asked for permissions it may not have."),
    }
    return str(titles.get(type(error).__name__, _("The sign-in request is not valid.")))
