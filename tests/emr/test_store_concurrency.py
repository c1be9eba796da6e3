"""Concurrent writers on PostgreSQL: optimistic concurrency lets exactly one of them win."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from tests.emr.conftest import LOCAL_BASE, patient
from tests.support.at_once import at_once
from yunyi.core.errors import ApplicationError
from yunyi.emr.models import ResourceVersion
from yunyi.emr.store.django_store import DjangoResourceStore
from yunyi.emr.store.protocol import StoredResource

WRITERS = 4


@pytest.fixture
def postgres_only() -> None:
    """Marker-selected (see the `postgres` marker): SQLite serialises writers, so no race."""
    assert connection.vendor == "postgresql"


def race(
    action: Callable[[int], StoredResource],
) -> tuple[list[StoredResource], list[ApplicationError]]:
    outcomes = at_once(action, WRITERS)
    unexpected = [
        o for o in outcomes if isinstance(o, Exception) and not isinstance(o, ApplicationError)
    ]
    assert not unexpected, unexpected
    wins = [o for o in outcomes if isinstance(o, StoredResource)]
    return wins, [o for o in outcomes if isinstance(o, ApplicationError)]


@pytest.mark.postgres
@pytest.mark.spec("FHIR R4", "http", "3.1.0.4.2 update: If-Match, concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_updates_with_the_same_expected_version_have_one_winner(
    postgres_only: None,
) -> None:
    store = DjangoResourceStore(local_base=LOCAL_BASE)
    store.update(patient("p1", family="Start"))
    wins, losses = race(
        lambda n: store.update(patient("p1", family=f"Writer{n}"), expected_version="1")
    )
    assert len(wins) == 1
    assert [(e.code, e.status) for e in losses] == [("version_conflict", 412)] * (WRITERS - 1)
    current = store.read("Patient", "p1")
    assert current.version_id == "2"
    assert current.resource == wins[0].resource
    assert ResourceVersion.objects.filter(fhir_id="p1").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_of_the_same_id_have_one_winner(postgres_only: None) -> None:
    store = DjangoResourceStore(local_base=LOCAL_BASE)
    wins, losses = race(lambda n: store.update(patient("fresh", family=f"Writer{n}")))
    # Writers that arrive after the winner committed update it; racing inserts lose with 409.
    assert sorted(w.version_id for w in wins)[0] == "1"
    assert [w.version_id for w in wins].count("1") == 1
    assert all((e.code, e.status) == ("id_conflict", 409) for e in losses)
    assert len(wins) + len(losses) == WRITERS
    assert ResourceVersion.objects.filter(fhir_id="fresh").count() == len(wins)
