"""The scope catalogue: SMART App Launch v2 grammar, v1 compatibility, checks the record's API
will call, and what a client may be granted."""

from __future__ import annotations

import pytest
from django.utils import translation

from yunyi.identity.scopes import (
    SmartScope,
    describe_scope,
    is_known_scope,
    matching_scopes,
    parse_smart_scope,
    scope_covers,
    scopes_permit,
    scopes_refused,
)


@pytest.mark.spec("SMART App Launch 2.0", "scopes-and-launch-context", "clinical data")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("patient/*.rs", SmartScope("patient", "*", frozenset("rs"))),
        ("user/*.cruds", SmartScope("user", "*", frozenset("cruds"))),
        ("system/*.cruds", SmartScope("system", "*", frozenset("cruds"))),
        ("patient/Observation.rs", SmartScope("patient", "Observation", frozenset("rs"))),
        ("user/Encounter.cu", SmartScope("user", "Encounter", frozenset("cu"))),
        ("patient/Condition.d", SmartScope("patient", "Condition", frozenset("d"))),
        (
            "patient/Observation.rs?category=laboratory",
            SmartScope("patient", "Observation", frozenset("rs"), "category=laboratory"),
        ),
        (
            "user/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs",
            SmartScope(
                "user",
                "Observation",
                frozenset("rs"),
                "category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs",
            ),
        ),
    ],
)
def test_v2_scopes_parse(text: str, expected: SmartScope) -> None:
    assert parse_smart_scope(text) == expected


@pytest.mark.spec("SMART App Launch 2.0", "scopes-for-requesting-clinical-data", "v1 compatibility")
@pytest.mark.parametrize(
    ("text", "permissions"),
    [("patient/*.read", "rs"), ("user/Observation.write", "cud"), ("patient/*.*", "cruds")],
)
def test_v1_scopes_map_to_v2_permissions(text: str, permissions: str) -> None:
    parsed = parse_smart_scope(text)
    assert parsed is not None
    assert parsed.permissions == frozenset(permissions)


@pytest.mark.spec("SMART App Launch 2.0", "scopes-for-requesting-clinical-data")
@pytest.mark.parametrize(
    "text",
    [
        "patient/*.sr",  # out of order
        "patient/*.rrs",  # repeated
        "patient/*.x",  # not a permission
        "patient/*.",  # empty
        "patient/*",  # no permissions
        "practitioner/*.rs",  # unknown context
        "patient/Foo.rs",  # not a FHIR R4 resource type
        "patient/observation.rs",  # resource types are case-sensitive
        "patient/Observation.rs?",  # empty query
        "patient/Observation.rs?category",  # query without value
        "patient/Observation.rs?a=1?b=2",
        "Patient/*.rs",
        "patient/*.rs ",
        "",
        "patient/" + "A" * 600 + ".rs",
    ],
)
def test_malformed_scopes_do_not_parse(text: str) -> None:
    assert parse_smart_scope(text) is None
    assert is_known_scope(text) is False


@pytest.mark.parametrize(
    "text", ["openid", "profile", "fhirUser", "offline_access", "launch/patient"]
)
def test_fixed_scopes_are_known(text: str) -> None:
    assert is_known_scope(text) is True
    assert parse_smart_scope(text) is None


@pytest.mark.spec("SMART App Launch 2.0", "scopes-for-requesting-clinical-data")
def test_scopes_permit_matches_context_type_and_permission() -> None:
    granted = ["openid", "patient/Observation.rs", "user/*.c"]
    assert (
        scopes_permit(granted, context="patient", resource_type="Observation", permission="r")
        is True
    )
    assert (
        scopes_permit(granted, context="patient", resource_type="Observation", permission="s")
        is True
    )
    assert (
        scopes_permit(granted, context="patient", resource_type="Observation", permission="u")
        is False
    )
    assert (
        scopes_permit(granted, context="patient", resource_type="Condition", permission="r")
        is False
    )
    assert scopes_permit(granted, context="user", resource_type="Condition", permission="c") is True
    assert (
        scopes_permit(granted, context="user", resource_type="Condition", permission="r") is False
    )
    assert (
        scopes_permit(granted, context="system", resource_type="Observation", permission="r")
        is False
    )


def test_scopes_permit_needs_an_unrestricted_scope() -> None:
    granted = ["patient/Observation.rs?category=laboratory"]
    assert (
        scopes_permit(granted, context="patient", resource_type="Observation", permission="r")
        is False
    )
    found = matching_scopes(granted, context="patient", resource_type="Observation", permission="r")
    assert [scope.query for scope in found] == ["category=laboratory"]


def test_scopes_permit_understands_v1_scopes() -> None:
    assert scopes_permit(
        ["patient/*.read"], context="patient", resource_type="Patient", permission="s"
    )
    assert not scopes_permit(
        ["patient/*.read"], context="patient", resource_type="Patient", permission="c"
    )


def test_scopes_permit_refuses_an_unknown_permission_letter() -> None:
    with pytest.raises(ValueError):
        scopes_permit(["patient/*.rs"], context="patient", resource_type="Patient", permission="rs")


@pytest.mark.parametrize(
    ("allowed", "requested", "covered"),
    [
        ("patient/*.cruds", "patient/Observation.rs", True),
        ("patient/*.rs", "patient/Observation.rs?category=laboratory", True),
        ("patient/Observation.rs", "patient/*.rs", False),
        ("patient/*.rs", "patient/*.cruds", False),
        ("patient/*.cruds", "user/Observation.r", False),
        ("patient/Observation.rs?category=laboratory", "patient/Observation.rs", False),
        ("openid", "openid", True),
        ("openid", "profile", False),
    ],
)
def test_scope_covers(allowed: str, requested: str, covered: bool) -> None:
    assert scope_covers(allowed, requested) is covered


def test_system_scopes_are_refused_to_public_clients_even_when_allowed() -> None:
    allowed = ["system/*.rs", "openid"]
    assert scopes_refused(["system/Patient.rs"], allowed=allowed, confidential=False) == [
        "system/Patient.rs"
    ]
    assert scopes_refused(["system/Patient.rs"], allowed=allowed, confidential=True) == []


def test_unknown_and_unallowed_scopes_are_refused() -> None:
    refused = scopes_refused(
        ["openid", "email", "patient/Observation.rs", "patient/Condition.rs"],
        allowed=["openid", "patient/Observation.rs"],
        confidential=True,
    )
    assert refused == ["email", "patient/Condition.rs"]


def test_scope_descriptions_are_human_readable() -> None:
    with translation.override("en"):
        assert describe_scope("patient/Observation.rs") == "Read and search your Observation"
        assert describe_scope("openid") == "Sign you in"
        assert describe_scope("user/*.cruds") == (
            "Read, search, create, change and delete all records you may access"
        )
        assert describe_scope("patient/Observation.rs?category=laboratory") == (
            "Read and search your Observation, limited to category=laboratory"
        )
    with translation.override("zh-hans"):
        assert describe_scope("patient/Observation.rs") == "读取和检索您的Observation"
        assert describe_scope("system/*.rs") == "读取和检索任何患者的全部记录（后台服务）"
