"""/fhir/R4/...: the FHIR R4 REST API (FHIR R4 §3.1.0 "RESTful API" URL patterns)."""

from django.urls import path, re_path

from yunyi.emr import api

TYPE = r"(?P<resource_type>[A-Z][A-Za-z]{1,63})"
ID = r"(?P<resource_id>[A-Za-z0-9\-.]{1,64})"

urlpatterns = [
    path("metadata", api.metadata, name="fhir-metadata"),
    path(".well-known/smart-configuration", api.smart_config, name="fhir-smart-configuration"),
    path("", api.system, name="fhir-system"),
    re_path(rf"^Patient/{ID}/\$everything$", api.everything, name="fhir-everything"),
    re_path(rf"^{TYPE}$", api.type_level, name="fhir-type"),
    re_path(rf"^{TYPE}/_search$", api.type_search, name="fhir-search"),
    re_path(rf"^{TYPE}/_history$", api.type_history, name="fhir-type-history"),
    re_path(rf"^{TYPE}/{ID}$", api.instance, name="fhir-instance"),
    re_path(rf"^{TYPE}/{ID}/_history$", api.instance_history, name="fhir-instance-history"),
    re_path(rf"^{TYPE}/{ID}/_history/(?P<version_id>[^/]{{1,32}})$", api.vread, name="fhir-vread"),
    re_path(r"^(?P<path>.*)$", api.unknown, name="fhir-unknown"),
]
