"""Query strings → search plans, and the precise errors for malformed values (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from yunyi.emr.search.declarations import ParamType, parameters_for, searchable_types
from yunyi.emr.search.parse import SearchError, SearchIssue, parse_search, split_unescaped
from yunyi.emr.search.plan import (
    DateValue,
    Include,
    Modifier,
    NumberValue,
    Prefix,
    QuantityValue,
    ReferenceValue,
    SortKey,
    StringValue,
    TextValue,
    TokenValue,
    TotalMode,
)


def issues_of(resource_type: str, pairs: list[tuple[str, str]]) -> list[SearchIssue]:
    with pytest.raises(SearchError) as caught:
        parse_search(resource_type, pairs)
    return caught.value.issues


def test_every_declared_type_has_id_and_last_updated() -> None:
    assert len(searchable_types()) == 19
    for resource_type in searchable_types():
        params = parameters_for(resource_type)
        assert params["_id"].column == "fhir_id"
        assert params["_lastUpdated"].type is ParamType.DATE


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.6 token forms")
def test_token_forms_parse_to_system_and_code() -> None:
    plan = parse_search(
        "Observation", [("code", "http://loinc.org|8867-4,1234-5,|x,http://loinc.org|")]
    )
    assert plan.criteria[0].values == (
        TokenValue("http://loinc.org", "8867-4", True),
        TokenValue(None, "1234-5", False),
        TokenValue(None, "x", True),
        TokenValue("http://loinc.org", None, True),
    )


@pytest.mark.spec("FHIR R4", "search", "3.1.1.3.2 AND and OR")
def test_repeated_parameter_is_and_comma_is_or() -> None:
    plan = parse_search("Patient", [("name", "li,wang"), ("name", "zhang")])
    assert [c.values for c in plan.criteria] == [
        (StringValue("li"), StringValue("wang")),
        (StringValue("zhang"),),
    ]


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.7 escaping")
def test_escaped_separators_are_data() -> None:
    assert split_unescaped(r"a\,b,c", ",") == [r"a\,b", "c"]
    plan = parse_search("Patient", [("name", r"a\,b")])
    assert plan.criteria[0].values == (StringValue("a,b"),)
    plan = parse_search("Patient", [("identifier", r"urn:x|a\|b")])
    assert plan.criteria[0].values == (TokenValue("urn:x", "a|b", True),)


@pytest.mark.spec("FHIR R4", "search", "3.1.1.4.1 prefixes")
def test_date_prefixes_and_partial_dates() -> None:
    plan = parse_search("Observation", [("date", "ge2020-03"), ("date", "lt2021")])
    assert plan.criteria[0].values == (
        DateValue(Prefix.GE, datetime(2020, 3, 1, tzinfo=UTC), datetime(2020, 4, 1, tzinfo=UTC)),
    )
    assert plan.criteria[1].values == (
        DateValue(Prefix.LT, datetime(2021, 1, 1, tzinfo=UTC), datetime(2022, 1, 1, tzinfo=UTC)),
    )
    for prefix in Prefix:
        assert (
            parse_search("Observation", [("date", f"{prefix}2020")]).criteria[0].values[0].prefix
            is prefix
        )


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.1 number: implicit precision")
def test_number_carries_its_implicit_precision() -> None:
    plan = parse_search("RiskAssessment", [("probability", "0.25"), ("probability", "gt1e2")])
    assert plan.criteria[0].values == (
        NumberValue(Prefix.EQ, Decimal("0.25"), Decimal("0.245"), Decimal("0.255")),
    )
    assert plan.criteria[1].values == (
        NumberValue(Prefix.GT, Decimal("1e2"), Decimal("50"), Decimal("150")),
    )


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.9 quantity")
def test_quantity_with_system_and_code() -> None:
    plan = parse_search(
        "Observation",
        [("value-quantity", "le5.4|http://unitsofmeasure.org|mg"), ("value-quantity", "72||/min")],
    )
    first, second = plan.criteria[0].values[0], plan.criteria[1].values[0]
    assert isinstance(first, QuantityValue) and isinstance(second, QuantityValue)
    assert (first.number.prefix, first.number.value, first.system, first.code) == (
        Prefix.LE,
        Decimal("5.4"),
        "http://unitsofmeasure.org",
        "mg",
    )
    assert (second.number.value, second.system, second.code) == (Decimal("72"), None, "/min")


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.10 reference forms")
def test_reference_forms() -> None:
    plan = parse_search(
        "Observation",
        [("patient", "123"), ("subject", "Patient/9"), ("subject:Group", "7"), ("subject", "5")],
    )
    assert [c.values[0] for c in plan.criteria] == [
        ReferenceValue("Patient", "123", None),
        ReferenceValue("Patient", "9", None),
        ReferenceValue("Group", "7", None),
        ReferenceValue(None, "5", None),
    ]
    assert plan.criteria[2].modifier is Modifier.TYPE
    absolute = (
        parse_search("Observation", [("subject", "http://other.example/fhir/Patient/3")])
        .criteria[0]
        .values[0]
    )
    assert absolute == ReferenceValue("Patient", "3", "http://other.example/fhir/Patient/3")


@pytest.mark.spec("FHIR R4", "search", "3.1.1.4.11 chained parameters")
def test_chained_parameter_becomes_a_criterion_on_the_target() -> None:
    plan = parse_search(
        "Observation", [("subject:Patient.name", "wang"), ("patient.birthdate", "1980")]
    )
    first, second = plan.criteria
    assert (first.param.name, first.target_type, first.chain and first.chain.param.name) == (
        "subject",
        "Patient",
        "name",
    )
    assert first.chain is not None and first.chain.values == (StringValue("wang"),)
    assert (second.target_type, second.chain and second.chain.param.name) == (
        "Patient",
        "birthdate",
    )


def test_modifiers_parse_per_type() -> None:
    plan = parse_search(
        "Patient",
        [
            ("family:exact", "Wang"),
            ("name:contains", "an"),
            ("gender:not", "male"),
            ("gender:text", "Fe"),
            ("email:missing", "true"),
        ],
    )
    assert [c.modifier for c in plan.criteria] == [
        Modifier.EXACT,
        Modifier.CONTAINS,
        Modifier.NOT,
        Modifier.TEXT,
        Modifier.MISSING,
    ]
    assert plan.criteria[3].values == (TextValue("fe"),)
    assert plan.criteria[4].missing is True


def test_result_parameters() -> None:
    plan = parse_search(
        "Observation",
        [
            ("_count", "20"),
            ("_sort", "-date,_id"),
            ("_total", "accurate"),
            ("_summary", "count"),
            ("_include", "Observation:patient"),
            ("_revinclude", "DiagnosticReport:result"),
            ("_format", "json"),
        ],
    )
    params = parameters_for("Observation")
    assert plan.count == 20
    assert plan.sort == (SortKey(params["date"], True), SortKey(params["_id"], False))
    assert plan.total is TotalMode.ACCURATE
    assert plan.summary_count is True
    assert plan.includes == (Include("Observation", params["patient"]),)
    assert plan.revincludes == (
        Include("DiagnosticReport", parameters_for("DiagnosticReport")["result"]),
    )
    assert plan.unknown == ()


def test_count_is_capped_at_the_maximum() -> None:
    assert parse_search("Patient", [("_count", "100000")], max_count=500).count == 500


def test_unknown_parameters_are_listed_not_refused() -> None:
    plan = parse_search(
        "Patient",
        [("favourite-colour", "blue"), ("name", "li"), ("_has:Observation:patient:code", "x")],
    )
    assert plan.unknown == ("favourite-colour", "_has:Observation:patient:code")
    assert len(plan.criteria) == 1


def test_empty_values_are_ignored() -> None:
    assert parse_search("Patient", [("name", ""), ("gender", ",")]).criteria == ()


@pytest.mark.parametrize(
    ("pairs", "code", "param"),
    [
        ([("date", "2020-13-01")], "invalid-date", "date"),
        ([("date", "xx2020")], "invalid-prefix", "date"),
        ([("date", "gt")], "invalid-date", "date"),
        ([("value-quantity", "abc")], "invalid-number", "value-quantity"),
        ([("value-quantity", "5|mg")], "invalid-value", "value-quantity"),
        ([("code:fuzzy", "x")], "unknown-modifier", "code:fuzzy"),
        ([("date:exact", "2020")], "unknown-modifier", "date:exact"),
        ([("status:missing", "maybe")], "invalid-value", "status:missing"),
        ([("code", "a|b|c")], "invalid-value", "code"),
        ([("_count", "-1")], "invalid-count", "_count"),
        ([("_count", "ten")], "invalid-count", "_count"),
        ([("_sort", "colour")], "invalid-sort", "_sort"),
        ([("_total", "lots")], "invalid-value", "_total"),
        ([("_include", "Patient:organization")], "invalid-include", "_include"),
        ([("_include", "Observation:code")], "invalid-include", "_include"),
        ([("subject.name", "x")], "invalid-chain", "subject.name"),
        ([("patient.colour", "x")], "invalid-chain", "patient.colour"),
        ([("subject:Medication", "1")], "invalid-modifier", "subject:Medication"),
    ],
)
def test_malformed_parameters_give_precise_issues(
    pairs: list[tuple[str, str]], code: str, param: str
) -> None:
    issues = issues_of("Observation", pairs)
    assert [(i.code, i.param) for i in issues] == [(code, param)]


def test_every_malformed_parameter_is_reported_at_once() -> None:
    issues = issues_of("Observation", [("date", "bad"), ("code", "ok"), ("_count", "x")])
    assert [(i.code, i.param) for i in issues] == [
        ("invalid-date", "date"),
        ("invalid-count", "_count"),
    ]


def test_injection_strings_parse_as_plain_values() -> None:
    hostile = "x' OR '1'='1; DROP TABLE emr_currentresource; --"
    plan = parse_search("Patient", [("name", hostile), ("identifier", hostile)])
    assert plan.criteria[0].values == (StringValue(hostile),)
    assert plan.criteria[1].values == (TokenValue(None, hostile, False),)
