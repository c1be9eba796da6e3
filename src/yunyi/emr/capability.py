"""What the FHIR API supports, generated from the search declarations that drive the code:
the CapabilityStatement (`/fhir/R4/metadata`, FHIR R4 §3.1.0.10 "capabilities") and the SMART
configuration (`/.well-known/smart-configuration`, SMART App Launch 2.0 §"Conformance")."""

from __future__ import annotations

from typing import Any, Final

from yunyi.emr.search.declarations import REGISTRY, ParamType, SearchParameter
from yunyi.identity.scopes import ADVERTISED_SCOPES

SOFTWARE_VERSION: Final = "0.1.0"
RESULT_PARAMETERS: Final = (
    ("_count", "number"),
    ("_sort", "string"),
    ("_total", "token"),
    ("_summary", "token"),
    ("_elements", "string"),
)
AUDIT_EVENT_PARAMETERS: Final = (
    ("patient", "reference", "Records of this patient that were accessed"),
    ("date", "date", "When the interaction happened"),
    ("agent", "reference", "Who acted (Patient/, Practitioner/ or a user id)"),
    ("_count", "number", "Page size"),
)
_INTERACTIONS: Final = (
    "read",
    "vread",
    "update",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)


def _search_param(param: SearchParameter) -> dict[str, Any]:
    body: dict[str, Any] = {"name": param.name, "type": param.type.value}
    if param.resource_type and not param.name.startswith("_"):
        body["definition"] = (
            f"http://hl7.org/fhir/SearchParameter/{param.resource_type}-{param.name}"
        )
    body["documentation"] = param.expression
    return body


def _resource(resource_type: str, params: dict[str, SearchParameter]) -> dict[str, Any]:
    references = sorted(p.name for p in params.values() if p.type is ParamType.REFERENCE)
    revincludes = sorted(
        f"{source}:{p.name}"
        for source, source_params in REGISTRY.items()
        for p in source_params.values()
        if p.type is ParamType.REFERENCE and (not p.targets or resource_type in p.targets)
    )
    body: dict[str, Any] = {
        "type": resource_type,
        "profile": f"http://hl7.org/fhir/StructureDefinition/{resource_type}",
        "interaction": [{"code": code} for code in _INTERACTIONS],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalRead": "not-supported",
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "referencePolicy": ["literal", "local"],
        "searchInclude": [f"{resource_type}:{name}" for name in references],
        "searchRevInclude": revincludes,
        "searchParam": [_search_param(p) for p in params.values()]
        + [{"name": name, "type": kind} for name, kind in RESULT_PARAMETERS],
    }
    if resource_type == "Patient":
        body["operation"] = [
            {
                "name": "everything",
                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
            }
        ]
    return body


def capability_statement(*, base: str, oauth_base: str, date: str) -> dict[str, Any]:
    resources = [_resource(t, REGISTRY[t]) for t in sorted(REGISTRY)]
    resources.append(
        {
            "type": "AuditEvent",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [
                {"name": name, "type": kind, "documentation": text}
                for name, kind, text in AUDIT_EVENT_PARAMETERS
            ],
        }
    )
    resources.sort(key=lambda r: r["type"])
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date,
        "publisher": "Yunyi",
        "kind": "instance",
        "software": {"name": "Yunyi", "version": SOFTWARE_VERSION},
        "implementation": {"description": "Yunyi medical record", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Compartment-based access: patient/ scopes reach the user's own and wards' "
                    "records; see /fhir/R4/.well-known/smart-configuration."
                ),
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/"
                            "oauth-uris",
                            "extension": [
                                {"url": "authorize", "valueUri": f"{oauth_base}/authorize/"},
                                {"url": "token", "valueUri": f"{oauth_base}/token/"},
                                {"url": "revoke", "valueUri": f"{oauth_base}/revoke_token/"},
                                {"url": "introspect", "valueUri": f"{oauth_base}/introspect/"},
                            ],
                        }
                    ],
                },
                "resource": resources,
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "compartment": ["http://hl7.org/fhir/CompartmentDefinition/patient"],
            }
        ],
    }


def smart_configuration(*, oauth_base: str) -> dict[str, Any]:
    return {
        "issuer": oauth_base,
        "jwks_uri": f"{oauth_base}/.well-known/jwks.json",
        "authorization_endpoint": f"{oauth_base}/authorize/",
        "token_endpoint": f"{oauth_base}/token/",
        "revocation_endpoint": f"{oauth_base}/revoke_token/",
        "introspection_endpoint": f"{oauth_base}/introspect/",
        "userinfo_endpoint": f"{oauth_base}/userinfo/",
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none",
        ],
        # SMART Backend Services: client assertions signed with these (RFC 7523).
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "response_types_supported": ["code"],
        "scopes_supported": list(ADVERTISED_SCOPES),
        "code_challenge_methods_supported": ["S256"],
        "capabilities": [
            "launch-standalone",
            "context-standalone-patient",
            "launch-ehr",
            "context-ehr-patient",
            "client-public",
            "client-confidential-symmetric",
            "client-confidential-asymmetric",
            "sso-openid-connect",
            "permission-offline",
            "permission-patient",
            "permission-user",
            "permission-v2",
        ],
    }
