"""The FHIR create's and update's hot path: what they send the database (an update locks its
current row once, a create on PostgreSQL is one write statement) and the guarantees that must
survive: concurrent writers serialise on the lock, values reach the database quoted exactly, a
write too large for one statement is still written whole, a failed write leaves nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction

from tests.emr.api_support import FhirClient, statements_of, store_state, system_client
from tests.emr.conftest import observation, patient
from tests.support.at_once import at_once
from yunyi.core.errors import ApplicationError
from yunyi.emr.models import CurrentResource, ResourceVersion, StringIndex, TokenIndex
from yunyi.emr.search.parse import parse_search
from yunyi.emr.search.text import index_key
from yunyi.emr.store import writes
from yunyi.emr.store.django_store import DjangoResourceStore

pytestmark = pytest.mark.django_db


def _current_row_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith("SELECT") and "emr_currentresource" in s]


def _created(client: FhirClient) -> dict[str, Any]:
    response = client.post_fhir("Observation", observation(value=70.0))
    assert response.status_code == 201, response.content
    created: dict[str, Any] = response.json()
    return created


def test_an_update_reads_and_locks_its_current_row_once() -> None:
    client = system_client()
    created = _created(client)
    body = {**created, "valueQuantity": {"value": 75.0, "unit": "/min"}}
    response, statements = statements_of(
        lambda: client.put_fhir(f"Observation/{created['id']}", body, **{"If-Match": 'W/"1"'})
    )
    assert response.status_code == 200, response.content
    assert response.json()["meta"]["versionId"] == "2"
    reads = _current_row_reads(statements)
    assert len(reads) == 1
    if connection.vendor == "postgresql":
        assert reads[0].rstrip().endswith("FOR UPDATE")
        # The lock, then one grouped write (current row, history, index rows).
        touching = [s for s in statements if "emr_currentresource" in s]
        assert len(touching) == 2
        assert touching[1].startswith('WITH w0 AS (UPDATE "emr_currentresource"')
    assert ResourceVersion.objects.filter(fhir_id=created["id"]).count() == 2


def test_a_stale_if_match_on_the_reused_lock_is_still_refused() -> None:
    client = system_client()
    created = _created(client)
    assert client.put_fhir(f"Observation/{created['id']}", created).status_code == 200
    before = store_state()
    response = client.put_fhir(f"Observation/{created['id']}", created, **{"If-Match": 'W/"1"'})
    assert response.status_code == 412
    assert store_state() == before


def test_a_delete_reads_and_locks_its_current_row_once() -> None:
    client = system_client()
    created = _created(client)
    response, statements = statements_of(lambda: client.delete_fhir(f"Observation/{created['id']}"))
    assert response.status_code in (200, 204)
    assert len(_current_row_reads(statements)) == 1
    assert client.get_fhir(f"Observation/{created['id']}").status_code == 410


@pytest.mark.postgres  # SQLite writes one statement per table
def test_a_create_on_postgresql_is_one_write_statement() -> None:
    client = system_client()
    _created(client)  # the token is looked up once per process
    created, statements = statements_of(lambda: _created(client))
    writes_ = [s for s in statements if "emr_currentresource" in s]
    assert len(writes_) == 1
    assert writes_[0].startswith('WITH w0 AS (INSERT INTO "emr_currentresource"')
    assert "emr_resourceversion" in writes_[0]
    assert "emr_tokenindex" in writes_[0]
    row = CurrentResource.objects.get(fhir_id=created["id"])
    assert ResourceVersion.objects.filter(resource=row, version_id=1).exists()
    assert TokenIndex.objects.filter(resource=row, param="code", code="8867-4").exists()


@pytest.mark.postgres  # SQLite has no prepared statements to look at
def test_a_repeated_create_runs_as_a_prepared_statement_with_bound_values() -> None:
    client = system_client()
    for _ in range(3):  # psycopg prepares a statement on its second run
        _created(client)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, parameter_types FROM pg_prepared_statements")
        prepared = cursor.fetchall()
    creates = [
        (sql, types)
        for sql, types in prepared
        if sql.startswith('WITH w0 AS (INSERT INTO "emr_currentresource"')
    ]
    assert len(creates) == 1
    sql, types = creates[0]
    # The values travel as parameters, none of them in the text.
    assert "$1" in sql and "8867-4" not in sql and "Observation" not in sql
    assert len(types) == sql.count("$") > 20


def test_values_reach_the_database_quoted_exactly(store: DjangoResourceStore) -> None:
    family = 'O\'Brien \\ 100% %s %(x)s 中文 "q" $$'
    created = store.create(patient("p1", family=family))
    stored = CurrentResource.objects.get(fhir_id=created.id)
    assert stored.document["name"][0]["family"] == family
    exact = StringIndex.objects.filter(resource=stored, param="family").values_list(
        "exact", flat=True
    )
    assert list(exact) == [index_key(family)]
    assert store.read("Patient", created.id).resource == created.resource
    page = store.search(parse_search("Patient", [("family:exact", "O'Brien")]))
    assert page.total == 0  # the whole name, not a prefix
    updated = store.update({**patient("p1", family=family + "!"), "id": created.id})
    assert store.read("Patient", updated.id).resource == updated.resource


def test_a_create_too_large_for_one_statement_is_written_whole(
    store: DjangoResourceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A parameter limit below the create's own: the current row goes first, the rest after it.
    monkeypatch.setattr(writes, "max_query_params", lambda db=None: 20)
    created = store.create(observation(value=81.0))
    row = CurrentResource.objects.get(fhir_id=created.id)
    assert ResourceVersion.objects.filter(resource=row).count() == 1
    assert TokenIndex.objects.filter(resource=row, param="code", code="8867-4").exists()
    assert store.search(parse_search("Observation", [("value-quantity", "81")])).total == 1


def test_a_failed_grouped_create_leaves_nothing(
    store: DjangoResourceStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The grouped statement's last clause fails (an index row without its parameter name):
    # the current row and history row of the same statement must not stay behind.
    real = writes.index_row_statements

    def broken(entries: Any, db: Any = None) -> list[Any]:
        bad = 'INSERT INTO "emr_tokenindex" ("resource_id", "resource_type") VALUES (%s, %s)'
        return [*real(entries, db), (bad, [1, "Observation"])]

    monkeypatch.setattr(writes, "index_row_statements", broken)
    before = store_state()
    with pytest.raises(ApplicationError), transaction.atomic():
        store.create(observation(value=90.0))
    assert store_state() == before
    assert not TokenIndex.objects.filter(resource_type="Observation").exists()


@pytest.mark.django_db(transaction=True)
def test_a_lock_is_only_handed_out_inside_a_transaction(store: DjangoResourceStore) -> None:
    store.update(patient("p1"))
    with pytest.raises(RuntimeError):
        store.lock_current("Patient", "p1")
    with transaction.atomic():
        lock = store.lock_current("Patient", "p1")
    with pytest.raises(RuntimeError):
        store.update(patient("p1", family="Li"), locked=lock)


@pytest.mark.django_db
def test_a_lock_from_elsewhere_is_refused(store: DjangoResourceStore) -> None:
    @dataclass(frozen=True)
    class ForeignLock:  # what another store adapter might hand out
        exists: bool = True
        version_id: int | None = 1
        document: dict[str, Any] | None = None

    store.update(patient("p1"))
    with transaction.atomic(), pytest.raises(TypeError):
        store.update(patient("p1", family="Li"), locked=ForeignLock())


def test_an_update_with_its_lock_writes_the_next_version(store: DjangoResourceStore) -> None:
    store.update(patient("p1"))
    with transaction.atomic():
        lock = store.lock_current("Patient", "p1")
        assert (lock.exists, lock.version_id) == (True, 1)
        assert lock.document is not None and lock.document["id"] == "p1"
        updated = store.update(patient("p1", family="Li"), expected_version="1", locked=lock)
        missing = store.lock_current("Patient", "nobody")
        assert (missing.exists, missing.version_id, missing.document) == (False, None, None)
        created = store.update(patient("nobody"), locked=missing)
    assert updated.version_id == "2"
    assert created.version_id == "1"
    assert store.search(parse_search("Patient", [("family", "Li")])).total == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_without_if_match_each_get_their_own_version() -> None:
    # Each writer locks the row before it reads the version it writes after: no lost update.
    assert connection.vendor == "postgresql"
    client = system_client()
    created = client.post_fhir("Patient", patient("p", family="Start")).json()
    writers = 4

    def writer(n: int) -> str:
        body: dict[str, Any] = {**created, "name": [{"family": f"Writer{n}"}]}
        return str(client.put_fhir(f"Patient/{created['id']}", body).json()["meta"]["versionId"])

    assert sorted(at_once(writer, writers)) == ["2", "3", "4", "5"]
    assert ResourceVersion.objects.filter(fhir_id=created["id"]).count() == writers + 1
