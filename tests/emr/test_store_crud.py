"""Create, read, vread, update, delete, history and atomic multi-writes of the resource store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.emr.conftest import observation, patient
from yunyi.core.errors import ApplicationError
from yunyi.emr.models import (
    CurrentResource,
    DateIndex,
    QuantityIndex,
    ReferenceIndex,
    ResourceVersion,
    StringIndex,
    TokenIndex,
)
from yunyi.emr.store.django_store import DjangoResourceStore
from yunyi.emr.store.protocol import Create, Delete, Update


def table_counts() -> tuple[int, int, int]:
    return (
        CurrentResource.objects.count(),
        ResourceVersion.objects.count(),
        TokenIndex.objects.count(),
    )


@pytest.mark.spec("FHIR R4", "http", "3.1.0.7 create")
def test_create_assigns_id_version_and_last_updated(store: DjangoResourceStore) -> None:
    created = store.create({**observation(), "id": "client-chosen"})
    assert created.id != "client-chosen"
    assert created.version_id == "1"
    assert created.method == "create"
    assert created.resource is not None
    assert created.resource["id"] == created.id
    assert created.resource["meta"]["versionId"] == "1"
    assert created.resource["meta"]["lastUpdated"].endswith("Z")
    read = store.read("Observation", created.id)
    assert read.resource == created.resource
    assert read.last_updated == created.last_updated


@pytest.mark.spec("FHIR R4", "http", "3.1.0.4 update")
def test_update_keeps_every_version_for_vread_and_history(store: DjangoResourceStore) -> None:
    first = store.update(patient("p1", family="Wang"))
    second = store.update(patient("p1", family="Zhang"), expected_version="1")
    assert (first.method, second.method, second.version_id) == ("create", "update", "2")
    assert store.read("Patient", "p1").resource["name"][0]["family"] == "Zhang"  # type: ignore[index]
    assert store.vread("Patient", "p1", "1").resource["name"][0]["family"] == "Wang"  # type: ignore[index]
    history = store.history(resource_type="Patient", resource_id="p1")
    assert [v.version_id for v in history.versions] == ["2", "1"]
    assert history.total == 2
    names = set(StringIndex.objects.filter(param="family").values_list("normalized", flat=True))
    assert names == {"zhang"}


@pytest.mark.spec("FHIR R4", "http", "3.1.0.4.2 update: If-Match version conflict")
def test_update_with_stale_version_is_a_conflict_and_changes_nothing(
    store: DjangoResourceStore,
) -> None:
    store.update(patient("p1", family="Wang"))
    store.update(patient("p1", family="Zhang"))
    before = table_counts()
    with pytest.raises(ApplicationError) as caught:
        store.update(patient("p1", family="Li"), expected_version="1")
    assert (caught.value.code, caught.value.status) == ("version_conflict", 412)
    assert caught.value.details == {
        "resource": "Patient/p1",
        "expected_version": "1",
        "current_version": "2",
    }
    assert table_counts() == before
    assert store.read("Patient", "p1").version_id == "2"


def test_update_of_absent_resource_with_expected_version_is_a_conflict(
    store: DjangoResourceStore,
) -> None:
    with pytest.raises(ApplicationError) as caught:
        store.update(patient("ghost"), expected_version="1")
    assert caught.value.status == 412
    assert table_counts() == (0, 0, 0)


@pytest.mark.spec("FHIR R4", "http", "3.1.0.8 delete: versioned tombstone")
def test_delete_writes_a_tombstone_and_read_answers_gone(store: DjangoResourceStore) -> None:
    store.update(patient("p1"))
    tombstone = store.delete("Patient", "p1")
    assert tombstone is not None
    assert (tombstone.version_id, tombstone.method, tombstone.deleted) == ("2", "delete", True)
    with pytest.raises(ApplicationError) as caught:
        store.read("Patient", "p1")
    assert (caught.value.code, caught.value.status) == ("resource_deleted", 410)
    assert store.vread("Patient", "p1", "1").resource is not None
    with pytest.raises(ApplicationError) as gone:
        store.vread("Patient", "p1", "2")
    assert gone.value.status == 410
    assert TokenIndex.objects.count() == 0
    assert store.delete("Patient", "p1") is None  # idempotent: no new version
    assert ResourceVersion.objects.count() == 2
    revived = store.update(patient("p1"))
    assert (revived.version_id, revived.method) == ("3", "update")


def test_read_of_unknown_resource_and_version_is_not_found(store: DjangoResourceStore) -> None:
    store.update(patient("p1"))
    for call, code in [
        (lambda: store.read("Patient", "nope"), "resource_not_found"),
        (lambda: store.vread("Patient", "p1", "9"), "version_not_found"),
        (lambda: store.vread("Patient", "p1", "x"), "version_not_found"),
        (lambda: store.vread("Patient", "nope", "1"), "resource_not_found"),
        (lambda: store.history(resource_type="Patient", resource_id="nope"), "resource_not_found"),
    ]:
        with pytest.raises(ApplicationError) as caught:
            call()
        assert (caught.value.code, caught.value.status) == (code, 404)


def test_invalid_resource_is_refused_with_issues_and_nothing_written(
    store: DjangoResourceStore,
) -> None:
    with pytest.raises(ApplicationError) as caught:
        store.create({"resourceType": "Patient", "gender": 5, "colour": "red"})
    assert (caught.value.code, caught.value.status) == ("invalid_resource", 400)
    assert caught.value.details == [
        {
            "entry": 0,
            "path": "Patient.gender",
            "message": "Input should be a valid string",
            "code": "value",
        },
        {
            "entry": 0,
            "path": "Patient.colour",
            "message": "Extra inputs are not permitted",
            "code": "structure",
        },
    ]
    assert table_counts() == (0, 0, 0)


def test_type_and_system_history_list_versions_newest_first_with_paging(
    store: DjangoResourceStore,
) -> None:
    store.update(patient("p1"))
    store.create(observation())
    store.update(patient("p1", family="Zhang"))
    system = store.history(count=2)
    assert [(v.resource_type, v.version_id) for v in system.versions] == [
        ("Patient", "2"),
        ("Observation", "1"),
    ]
    assert system.total == 3
    assert system.next_cursor is not None
    rest = store.history(count=2, cursor=system.next_cursor)
    assert [(v.resource_type, v.version_id) for v in rest.versions] == [("Patient", "1")]
    assert rest.next_cursor is None
    assert [v.version_id for v in store.history(resource_type="Patient").versions] == ["2", "1"]
    assert store.history(resource_type="Patient", since=system.versions[0].last_updated).total == 1


@pytest.mark.spec("FHIR R4", "http", "3.1.0.11.2 transaction: urn:uuid references")
def test_write_all_resolves_urn_uuid_references(store: DjangoResourceStore) -> None:
    urn = "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"
    new_patient = {"resourceType": "Patient", "name": [{"family": "Chen"}]}
    results = store.write_all(
        [
            Create(new_patient, full_url=urn),
            Create({**observation(), "subject": {"reference": urn}}),
        ]
    )
    created_patient, created_observation = results
    assert created_patient is not None and created_observation is not None
    assert created_observation.resource is not None
    assert created_observation.resource["subject"] == {"reference": f"Patient/{created_patient.id}"}
    assert (
        ReferenceIndex.objects.filter(
            param="patient", target_type="Patient", target_id=created_patient.id
        ).count()
        == 1
    )


@pytest.mark.spec("FHIR R4", "http", "3.1.0.11.2 transaction: all or nothing")
def test_write_all_with_one_bad_entry_writes_nothing(store: DjangoResourceStore) -> None:
    store.update(patient("p1"))
    before = table_counts()
    with pytest.raises(ApplicationError) as caught:
        store.write_all(
            [
                Create(observation()),
                Update(patient("p1", family="New")),
                Create({"resourceType": "Observation"}),
            ]
        )
    assert caught.value.details == [
        {"entry": 2, "path": "Observation.code", "message": "Field required", "code": "required"},
    ]
    assert table_counts() == before
    assert store.read("Patient", "p1").resource["name"][0]["family"] == "Wang"  # type: ignore[index]


def test_write_all_with_a_late_conflict_rolls_back_earlier_writes(
    store: DjangoResourceStore,
) -> None:
    store.update(patient("p1"))
    before = table_counts()
    with pytest.raises(ApplicationError) as caught:
        store.write_all(
            [
                Create(observation()),
                Update(patient("p2")),
                Update(patient("p1"), expected_version="7"),
            ]
        )
    assert caught.value.status == 412
    assert table_counts() == before


def test_write_all_refuses_unresolved_urn_and_duplicate_entries(store: DjangoResourceStore) -> None:
    with pytest.raises(ApplicationError) as caught:
        store.write_all(
            [
                Create(patient("a"), full_url="urn:uuid:1"),
                Create({**observation(), "subject": {"reference": "urn:uuid:404"}}),
                Update(patient("p1")),
                Delete("Patient", "p1"),
            ]
        )
    messages = [(d["entry"], d["message"]) for d in caught.value.details]
    assert messages == [(1, "unresolved reference urn:uuid:404"), (3, "Patient/p1 appears twice")]
    assert table_counts() == (0, 0, 0)


def test_atomic_spans_several_store_calls(store: DjangoResourceStore) -> None:
    with pytest.raises(RuntimeError), store.atomic():
        store.update(patient("p1"))
        store.create(observation())
        raise RuntimeError("caller failed after writing")
    assert table_counts() == (0, 0, 0)


def test_synthea_resources_round_trip(
    store: DjangoResourceStore, synthea: Callable[[str, int], list[dict[str, Any]]]
) -> None:
    resources = synthea("Patient", 3) + synthea("Condition", 10) + synthea("Encounter", 10)
    results = store.write_all([Update(r) for r in resources])
    assert [r.id for r in results if r is not None] == [r["id"] for r in resources]
    original = resources[4]
    read = store.read(original["resourceType"], original["id"]).resource
    assert read is not None
    assert {k: v for k, v in read.items() if k != "meta"} == {
        k: v for k, v in original.items() if k != "meta"
    }


def test_update_replaces_index_rows_of_every_table(store: DjangoResourceStore) -> None:
    store.update({**observation(value=72), "id": "o1"})
    assert QuantityIndex.objects.filter(resource__fhir_id="o1").count() == 2
    store.update({**observation(value=None, code="1234-5"), "id": "o1"})
    assert QuantityIndex.objects.filter(resource__fhir_id="o1").count() == 0
    codes = set(TokenIndex.objects.filter(param="code").values_list("code", flat=True))
    assert codes == {"1234-5"}
    store.delete("Observation", "o1")
    assert (
        DateIndex.objects.count()
        == ReferenceIndex.objects.count()
        == TokenIndex.objects.count()
        == 0
    )
