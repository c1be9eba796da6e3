"""/o/...: our sign-in page and django-oauth-toolkit's endpoints (our subclasses where we add
checks or audit). DOT's self-service client management pages are deliberately not mounted:
clients are registered by admins (`yunyi createclient`, the admin site)."""

from django.urls import include, path, re_path
from oauth2_provider import views as dot_views

from yunyi.identity import oauth_views
from yunyi.identity.language import switch_language
from yunyi.identity.views import login_view

oauth_patterns = [
    path("authorize/", oauth_views.AuthorizationView.as_view(), name="authorize"),
    path("token/", oauth_views.TokenView.as_view(), name="token"),
    path("revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", oauth_views.IntrospectTokenView.as_view(), name="introspect"),
    re_path(
        r"^\.well-known/openid-configuration/?$",
        oauth_views.ConnectDiscoveryInfoView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(
        ".well-known/oauth-authorization-server",
        oauth_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
    path(".well-known/jwks.json", dot_views.JwksInfoView.as_view(), name="jwks-info"),
    path("userinfo/", oauth_views.UserInfoView.as_view(), name="user-info"),
    path("logout/", oauth_views.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
]

urlpatterns = [
    path("login/", login_view, name="identity-login"),
    path("language/<str:language>/", switch_language, name="identity-language"),
    path("", include((oauth_patterns, "oauth2_provider"))),
]
