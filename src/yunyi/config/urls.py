"""URL map: /healthz · /api/v1 · /o (OAuth/OIDC) · /admin · / (the web app)."""

from django.contrib import admin
from django.urls import include, path, re_path

from yunyi.config.api import api
from yunyi.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("o/", include("yunyi.identity.urls")),
    path("admin/", admin.site.urls),
    re_path(r"^fhir/R4(?:/|$)", include("yunyi.emr.urls")),
    path("", core_views.spa, name="spa"),
    re_path(r"^(?!api/|o/|fhir/|ws/|admin/|static/|healthz)(?P<path>.*)$", core_views.spa),
]
