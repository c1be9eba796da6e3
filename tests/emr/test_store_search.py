"""Search executed by the store over the index tables: every parameter type, prefix and modifier,
chains, sorting, paging, totals and includes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.emr.conftest import observation, patient
from yunyi.core.errors import ApplicationError
from yunyi.emr.models import CurrentResource
from yunyi.emr.search.parse import parse_search
from yunyi.emr.store.django_store import DjangoResourceStore
from yunyi.emr.store.protocol import SearchPage, Update
from yunyi.emr.store.sql import selectivity_rank


def search(
    store: DjangoResourceStore, resource_type: str, query: str, *, cursor: str | None = None
) -> SearchPage:
    pairs = [tuple(part.split("=", 1)) for part in query.split("&") if part]
    return store.search(parse_search(resource_type, pairs), cursor=cursor)  # type: ignore[arg-type]


def ids(store: DjangoResourceStore, resource_type: str, query: str) -> list[str]:
    return sorted(r.id for r in search(store, resource_type, query).resources)


def put(store: DjangoResourceStore, resource_id: str, resource: dict[str, Any]) -> None:
    store.update({**resource, "id": resource_id})


@pytest.fixture
def vitals(store: DjangoResourceStore) -> DjangoResourceStore:
    put(store, "p1", patient("p1", family="Wang", given="José", birth_date="1980-05-17"))
    put(store, "p2", patient("p2", family="Zhang", given="Wei", birth_date="1975", gender="male"))
    put(store, "o1", observation(patient="p1", effective="2020-01-01T10:00:00Z", value=60))
    put(store, "o2", observation(patient="p1", effective="2020-06-15", value=72))
    put(
        store,
        "o3",
        observation(
            patient="p2", effective={"start": "2020-03-01", "end": "2020-09-30"}, value=100
        ),
    )
    put(
        store,
        "o4",
        observation(
            patient="p2",
            effective="2021-02-01T00:00:00Z",
            value=72,
            unit="mm[Hg]",
            code="85354-9",
            display="Blood pressure",
        ),
    )
    return store


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.6 token")
def test_token_search_forms(vitals: DjangoResourceStore) -> None:
    assert ids(vitals, "Observation", "code=8867-4") == ["o1", "o2", "o3"]
    assert ids(vitals, "Observation", "code=http://loinc.org|85354-9") == ["o4"]
    assert ids(vitals, "Observation", "code=http://snomed.info/sct|85354-9") == []
    assert ids(vitals, "Observation", "code=http://loinc.org|") == ["o1", "o2", "o3", "o4"]
    assert ids(vitals, "Observation", "status=|final") == ["o1", "o2", "o3", "o4"]
    assert ids(vitals, "Observation", "code=8867-4,85354-9&patient=p2") == ["o3", "o4"]
    assert ids(vitals, "Patient", "identifier=urn:yunyi:mrn|MRN-p2") == ["p2"]
    assert ids(vitals, "Patient", "_id=p1,p9") == ["p1"]


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.5 modifiers: :not :text :missing")
def test_token_modifiers(vitals: DjangoResourceStore) -> None:
    assert ids(vitals, "Observation", "code:not=8867-4") == ["o4"]
    assert ids(vitals, "Observation", "code:text=blood") == ["o4"]
    assert ids(vitals, "Patient", "gender:not=male") == ["p1"]
    assert ids(vitals, "Patient", "email:missing=true") == ["p1", "p2"]
    assert ids(vitals, "Patient", "phone:missing=false") == ["p1", "p2"]
    assert ids(vitals, "Patient", "_id:not=p1") == ["p2"]


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.12 string")
def test_string_search_default_exact_contains(vitals: DjangoResourceStore) -> None:
    assert ids(vitals, "Patient", "name=wa") == ["p1"]
    assert ids(vitals, "Patient", "given=JOSE") == ["p1"]
    assert ids(vitals, "Patient", "family:exact=Wang") == ["p1"]
    assert ids(vitals, "Patient", "family:exact=wang") == []
    assert ids(vitals, "Patient", "family:contains=an") == ["p1", "p2"]
    assert ids(vitals, "Patient", "name=z&name=wei") == ["p2"]
    assert ids(vitals, "Patient", "address-city=hang") == ["p1", "p2"]


@pytest.mark.spec("FHIR R4", "search", "3.1.1.4.1 prefixes: date ranges")
@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("eq", ["o2"]),
        ("ne", ["o1", "o3", "o4"]),
        ("gt", ["o3", "o4"]),
        ("lt", ["o1", "o3"]),
        ("ge", ["o2", "o3", "o4"]),
        ("le", ["o1", "o2", "o3"]),
        ("sa", ["o4"]),
        ("eb", ["o1"]),
    ],
)
def test_date_prefixes_against_a_partial_month(
    vitals: DjangoResourceStore, prefix: str, expected: list[str]
) -> None:
    assert ids(vitals, "Observation", f"date={prefix}2020-06") == expected


@pytest.mark.spec("FHIR R4", "search", "3.1.1.4.1.1 prefixes ge and le")
def test_ge_and_le_against_periods_that_cross_the_value(store: DjangoResourceStore) -> None:
    periods = {
        "before-into": {"start": "2020-05-20", "end": "2020-06-10"},
        "inside": {"start": "2020-06-05", "end": "2020-06-20"},
        "into-after": {"start": "2020-06-10", "end": "2020-08-01"},
        "around": {"start": "2020-05-01", "end": "2020-08-01"},
        "before": {"start": "2020-01-01", "end": "2020-02-01"},
        "after": {"start": "2020-09-01", "end": "2020-10-01"},
    }
    for name, period in periods.items():
        put(store, name, observation(effective=period))
    assert ids(store, "Observation", "date=ge2020-06") == [
        "after",
        "around",
        "inside",
        "into-after",
    ]
    assert ids(store, "Observation", "date=le2020-06") == [
        "around",
        "before",
        "before-into",
        "inside",
    ]


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.2 date: partial dates")
def test_partial_dates_match_whole_periods(vitals: DjangoResourceStore) -> None:
    assert ids(vitals, "Observation", "date=2020") == ["o1", "o2", "o3"]
    assert ids(vitals, "Observation", "date=2020-01-01") == ["o1"]
    assert ids(vitals, "Observation", "date=2020-01-01T10:00:00Z") == ["o1"]
    assert ids(vitals, "Observation", "date=2020-01-01T18:00:00+08:00") == ["o1"]
    assert ids(vitals, "Observation", "date=ge2020-01-01&date=lt2020-02") == ["o1"]
    assert ids(vitals, "Patient", "birthdate=1980") == ["p1"]
    assert ids(vitals, "Patient", "birthdate=1975-06") == []
    assert ids(vitals, "Patient", "birthdate=le1979") == ["p2"]


@pytest.mark.spec("FHIR R4", "search", "3.1.1.4.1 prefixes: ap")
def test_date_approximately(store: DjangoResourceStore) -> None:
    put(store, "near", observation(effective="2020-06-20"))
    put(store, "far", observation(effective="1990-01-01"))
    assert ids(store, "Observation", "date=ap2020-06-15") == ["near"]


def test_last_updated_searches_the_resource_column(vitals: DjangoResourceStore) -> None:
    # Writes can take under a millisecond: write o4 again, surely later than the others.
    time.sleep(0.002)
    vitals.update(vitals.read("Observation", "o4").resource)  # type: ignore[arg-type]
    moment = vitals.read("Observation", "o4").resource["meta"]["lastUpdated"]  # type: ignore[index]
    assert ids(vitals, "Observation", f"_lastUpdated=gt{moment}") == []
    assert ids(vitals, "Observation", f"_lastUpdated=eq{moment}") == ["o4"]
    assert ids(vitals, "Observation", "_lastUpdated=ge2000") == ["o1", "o2", "o3", "o4"]
    assert ids(vitals, "Observation", "_lastUpdated=lt2000") == []


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.9 quantity")
def test_quantity_prefixes_and_units(vitals: DjangoResourceStore) -> None:
    assert ids(vitals, "Observation", "value-quantity=72") == ["o2", "o4"]
    assert ids(vitals, "Observation", "value-quantity=72||/min") == ["o2"]
    assert ids(vitals, "Observation", "value-quantity=72|http://unitsofmeasure.org|mm[Hg]") == [
        "o4"
    ]
    assert ids(vitals, "Observation", "value-quantity=gt72") == ["o3"]
    assert ids(vitals, "Observation", "value-quantity=le72") == ["o1", "o2", "o4"]
    assert ids(vitals, "Observation", "value-quantity=ne72") == ["o1", "o3"]
    assert ids(vitals, "Observation", "value-quantity=ap95") == ["o3"]
    assert ids(vitals, "Observation", "value-quantity=71.9") == []


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.1 number")
def test_number_search_honours_precision(store: DjangoResourceStore) -> None:
    for name, probability in [("r1", 0.25), ("r2", 0.3), ("r3", 0.9)]:
        put(
            store,
            name,
            {
                "resourceType": "RiskAssessment",
                "status": "final",
                "subject": {"reference": "Patient/p1"},
                "prediction": [{"probabilityDecimal": probability}],
            },
        )
    assert ids(store, "RiskAssessment", "probability=0.3") == ["r1", "r2"]  # 0.3 means [0.25, 0.35)
    assert ids(store, "RiskAssessment", "probability=0.30") == ["r2"]
    assert ids(store, "RiskAssessment", "probability=0.2") == []
    assert ids(store, "RiskAssessment", "probability=gt0.25") == ["r2", "r3"]
    assert ids(store, "RiskAssessment", "probability=lt0.5&patient=p1") == ["r1", "r2"]


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.13 uri")
def test_uri_search_exact_and_below(store: DjangoResourceStore) -> None:
    put(
        store,
        "d1",
        {
            "resourceType": "DocumentReference",
            "status": "current",
            "content": [{"attachment": {"url": "http://files.example/docs/a.pdf"}}],
            "meta": {
                "profile": [
                    "http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference"
                ]
            },
        },
    )
    assert ids(store, "DocumentReference", "location=http://files.example/docs/a.pdf") == ["d1"]
    assert ids(store, "DocumentReference", "location=http://files.example/docs") == []
    assert ids(store, "DocumentReference", "location:below=http://files.example/docs") == ["d1"]
    assert ids(
        store,
        "DocumentReference",
        "_profile=http://hl7.org/fhir/us/core/StructureDefinition/us-core-documentreference",
    ) == ["d1"]


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.10 reference")
def test_reference_search_forms(vitals: DjangoResourceStore) -> None:
    assert ids(vitals, "Observation", "patient=p1") == ["o1", "o2"]
    assert ids(vitals, "Observation", "patient=Patient/p2") == ["o3", "o4"]
    assert ids(vitals, "Observation", "subject=p2") == ["o3", "o4"]
    assert ids(vitals, "Observation", "subject:Patient=p1") == ["o1", "o2"]
    assert ids(vitals, "Observation", "subject=Group/p1") == []
    assert ids(vitals, "Observation", "subject:missing=true") == []


@pytest.mark.spec("FHIR R4", "search", "3.1.1.4.11 chained parameters")
def test_chained_search_on_subject_and_patient(vitals: DjangoResourceStore) -> None:
    assert ids(vitals, "Observation", "subject:Patient.name=wang") == ["o1", "o2"]
    assert ids(vitals, "Observation", "patient.birthdate=1975&code=85354-9") == ["o4"]
    assert ids(vitals, "Observation", "patient.gender=other") == []
    vitals.delete("Patient", "p1")
    assert ids(vitals, "Observation", "subject:Patient.name=wang") == []


@pytest.mark.spec("FHIR R4", "search", "3.1.1.4.3 _sort")
def test_sort_by_several_keys_with_missing_values_last(store: DjangoResourceStore) -> None:
    put(store, "a", patient("a", family="Li", birth_date="1990"))
    put(store, "b", patient("b", family="Li", birth_date="1970"))
    put(store, "c", patient("c", family="Chen", birth_date="1985"))
    nameless = patient("d", birth_date="2000")
    del nameless["name"]
    put(store, "d", nameless)
    order = lambda query: [r.id for r in search(store, "Patient", query).resources]  # noqa: E731
    assert order("_sort=family,-birthdate") == ["c", "a", "b", "d"]
    assert order("_sort=-family,birthdate") == ["b", "a", "c", "d"]
    assert order("_sort=birthdate") == ["b", "c", "a", "d"]
    assert order("_sort=-_id") == ["d", "c", "b", "a"]


@pytest.mark.spec("FHIR R4", "search", "3.1.1.6 paging")
def test_paging_is_stable_under_inserts(store: DjangoResourceStore) -> None:
    for day in range(1, 11):
        put(store, f"o{day:02d}", observation(patient="px", effective=f"2022-03-{day:02d}"))
    query = "patient=px&_sort=-date&_count=4"
    first = search(store, "Observation", query)
    assert [r.id for r in first.resources] == ["o10", "o09", "o08", "o07"]
    assert first.total == 10
    assert first.previous_cursor is None
    # New resources that sort before and inside the next page must not shift it.
    put(store, "new-latest", observation(patient="px", effective="2022-04-01"))
    put(store, "new-middle", observation(patient="px", effective="2022-03-05T12:00:00Z"))
    second = search(store, "Observation", query, cursor=first.next_cursor)
    assert [r.id for r in second.resources] == ["o06", "new-middle", "o05", "o04"]
    third = search(store, "Observation", query, cursor=second.next_cursor)
    assert [r.id for r in third.resources] == ["o03", "o02", "o01"]
    assert third.next_cursor is None
    back = search(store, "Observation", query, cursor=third.previous_cursor)
    assert [r.id for r in back.resources] == ["o06", "new-middle", "o05", "o04"]
    assert back.next_cursor is not None


def test_paging_by_insertion_order_without_sort(store: DjangoResourceStore) -> None:
    for n in range(5):
        put(store, f"p{n}", patient(f"p{n}"))
    first = search(store, "Patient", "_count=3")
    second = search(store, "Patient", "_count=3", cursor=first.next_cursor)
    assert [r.id for r in first.resources + second.resources] == ["p0", "p1", "p2", "p3", "p4"]
    assert second.next_cursor is None


def test_total_none_summary_count_and_zero_count(vitals: DjangoResourceStore) -> None:
    assert search(vitals, "Observation", "_total=none").total is None
    summary = search(vitals, "Observation", "_summary=count&patient=p1")
    assert (summary.resources, summary.total) == ([], 2)
    assert search(vitals, "Observation", "_count=0").total == 4


def test_a_first_page_holding_every_match_is_its_own_total(vitals: DjangoResourceStore) -> None:
    with CaptureQueriesContext(connection) as queries:
        page = search(vitals, "Observation", "patient=p1&_sort=-date")
    assert ([r.id for r in page.resources], page.total) == (["o2", "o1"], 2)
    assert len(queries.captured_queries) == 1  # the page alone, no COUNT


def test_paged_totals_count_each_match_once_and_skip_deleted(store: DjangoResourceStore) -> None:
    twice = observation(code="8867-4")
    twice["code"]["coding"].append({"system": "http://loinc.org", "code": "8480-6"})
    put(store, "both", twice)
    put(store, "one", observation(code="8480-6"))
    put(store, "other", observation(code="8310-5"))
    put(store, "gone", observation(code="8867-4"))
    store.delete("Observation", "gone")
    first = search(store, "Observation", "code=8867-4,8480-6&_count=1")
    assert (len(first.resources), first.total) == (1, 2)
    second = search(store, "Observation", "code=8867-4,8480-6&_count=1", cursor=first.next_cursor)
    assert (len(second.resources), second.total) == (1, 2)
    assert {r.id for r in first.resources + second.resources} == {"both", "one"}
    assert search(store, "Observation", "code:not=8867-4&_count=1").total == 2
    assert search(store, "Observation", "_summary=count&code=8867-4").total == 1


@pytest.mark.spec("FHIR R4", "search", "3.1.1.5.4 _include and _revinclude")
def test_include_and_revinclude_one_level(vitals: DjangoResourceStore) -> None:
    put(
        vitals,
        "r1",
        {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "code": {"text": "Vitals"},
            "subject": {"reference": "Patient/p1"},
            "result": [{"reference": "Observation/o1"}],
        },
    )
    page = search(
        vitals,
        "Observation",
        "patient=p1&_include=Observation:patient&_revinclude=DiagnosticReport:result&_sort=_id",
    )
    assert [r.id for r in page.resources] == ["o1", "o2"]
    assert sorted(r.reference for r in page.included) == ["DiagnosticReport/r1", "Patient/p1"]


def test_deleted_resources_are_not_found_by_search(vitals: DjangoResourceStore) -> None:
    vitals.delete("Observation", "o2")
    assert ids(vitals, "Observation", "patient=p1") == ["o1"]
    assert ids(vitals, "Observation", "") == ["o1", "o3", "o4"]


@pytest.mark.parametrize(
    "hostile",
    [
        "x' OR '1'='1",
        "'; DROP TABLE emr_currentresource; --",
        "%",
        "_",
        "\\",
        'Robert"); DELETE FROM emr_tokenindex; --',
    ],
)
def test_injection_strings_in_values_are_data(vitals: DjangoResourceStore, hostile: str) -> None:
    before = CurrentResource.objects.count()
    assert ids(vitals, "Patient", f"name={hostile}") == []
    assert ids(vitals, "Patient", f"name:contains={hostile}") == []
    assert ids(vitals, "Observation", f"code={hostile}") == []
    assert ids(vitals, "Observation", f"subject={hostile}") == []
    assert ids(vitals, "Observation", f"subject:Patient.family:exact={hostile}") == []
    assert CurrentResource.objects.count() == before


def test_forged_or_malformed_cursor_is_a_400(vitals: DjangoResourceStore) -> None:
    for cursor in ["not-base64!", "eyJrIjpbXX0", "eyJrIjpbeyJ0IjoieCJ9XSwiciI6MSwiZiI6dHJ1ZX0"]:
        with pytest.raises(ApplicationError) as caught:
            search(vitals, "Observation", "_sort=date", cursor=cursor)
        assert (caught.value.code, caught.value.status) == ("invalid_cursor", 400)


def test_synthea_search_by_patient_and_code(
    store: DjangoResourceStore, synthea: Callable[[str, int], list[dict[str, Any]]]
) -> None:
    conditions = synthea("Condition", 40)
    store.write_all([Update(r) for r in conditions])
    first = conditions[0]
    patient_id = first["subject"]["reference"].split("/")[1]
    coding = first["code"]["coding"][0]
    expected = sorted(
        c["id"]
        for c in conditions
        if c["subject"]["reference"] == f"Patient/{patient_id}"
        and any(
            cd["code"] == coding["code"] and cd["system"] == coding["system"]
            for cd in c["code"]["coding"]
        )
    )
    found = ids(
        store, "Condition", f"patient={patient_id}&code={coding['system']}|{coding['code']}"
    )
    assert found == expected
    assert len(found) >= 1


def test_approximate_dates_at_the_ends_of_time_do_not_fail(vitals: DjangoResourceStore) -> None:
    assert ids(vitals, "Observation", "date=ap0001&_lastUpdated=ap9999-12-31") == []
    assert ids(vitals, "Observation", "_lastUpdated=ap0001") == []


def test_searches_driven_from_one_criterion_test_every_other(vitals: DjangoResourceStore) -> None:
    # The first criterion driving, or a later one: the same answers either way.
    assert ids(vitals, "Observation", "date=ge2020-06&patient=p2") == ["o3", "o4"]
    assert ids(vitals, "Observation", "patient=p2&date=ge2020-06&code=8867-4") == ["o3"]
    assert ids(vitals, "Observation", "code=8867-4&patient=p1&value-quantity=gt65") == ["o2"]
    assert ids(vitals, "Observation", "patient=p2&code:not=8867-4") == ["o4"]
    assert ids(vitals, "Observation", "patient=p1&_id=o1,o3") == ["o1"]
    assert ids(vitals, "Observation", "code=8867-4&subject:Patient.name=zhang") == ["o3"]
    assert ids(vitals, "Patient", "name=wang&birthdate=1980-05-17") == ["p1"]
    assert ids(vitals, "Patient", "birthdate=1980-05-17&email:missing=true") == ["p1"]


def test_selectivity_rank_puts_reference_ids_first() -> None:
    plan = parse_search(
        "Observation",
        [
            ("subject:Patient.name", "x"),
            ("date", "ge2020"),
            ("patient", "p1"),
            ("code", "8867-4"),
            ("date", "2020-01-01"),
        ],
    )
    assert [selectivity_rank(c) for c in plan.criteria] == [4, 3, 0, 1, 1]
    names = parse_search("Patient", [("name", "wang"), ("name:exact", "Wang")])
    assert [selectivity_rank(c) for c in names.criteria] == [2, 1]


def test_a_search_after_a_reference_keeps_each_match_once_across_pages(
    store: DjangoResourceStore,
) -> None:
    # On PostgreSQL such a search tests its criteria as a chain over index rows
    # (`queries._probe_chain`); a resource with several matching rows (two codings, a period
    # and a date) must still come once, in order, and be counted once.
    both = observation(patient="p1", code="8867-4", effective="2022-03-01T08:00:00Z")
    both["code"]["coding"].append({"system": "http://loinc.org", "code": "8310-5"})
    put(store, "both", both)
    put(store, "hr1", observation(patient="p1", effective="2022-01-01T08:00:00Z"))
    put(
        store,
        "hr2",
        observation(patient="p1", effective={"start": "2022-02-01", "end": "2022-02-03"}),
    )
    put(store, "old", observation(patient="p1", effective="2019-01-01T08:00:00Z"))
    put(store, "other", observation(patient="p2", effective="2022-05-01T08:00:00Z"))
    put(store, "temp", observation(patient="p1", code="8310-5", effective="2022-04-01"))
    query = "patient=p1&code=8867-4,8310-5&date=ge2021&_sort=-date&_count=2&_total=accurate"
    seen: list[str] = []
    page = search(store, "Observation", query)
    assert page.total == 4
    while True:
        seen += [r.id for r in page.resources]
        if page.next_cursor is None:
            break
        page = search(store, "Observation", query, cursor=page.next_cursor)
    assert seen == ["temp", "both", "hr2", "hr1"]
    assert ids(store, "Observation", "patient=p1&code=8310-5&date=lt2022-03-02") == ["both"]


@pytest.mark.postgres
def test_postgresql_reads_resource_rows_only_for_ids_that_pass_every_index_test(
    vitals: DjangoResourceStore,
) -> None:
    with CaptureQueriesContext(connection) as captured:
        assert ids(vitals, "Observation", "patient=p2&date=ge2020-06&code=8867-4") == ["o3"]
    page_query = next(
        q["sql"] for q in captured.captured_queries if "emr_currentresource" in q["sql"]
    )
    # The resource rows are read by the ids of a chain of index tests, innermost the patient's.
    assert page_query.count("= ANY(ARRAY(SELECT") == 3
    assert "EXISTS" not in page_query.split("ORDER BY")[0].split("WHERE", 1)[1]
