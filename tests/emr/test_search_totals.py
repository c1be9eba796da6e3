"""Bundle.total of a search with more matches than its page (`yunyi.emr.store.totals`): a count
is reused for the same criteria until this process writes that type or the time runs out;
`_total=accurate` always counts. "A change this process did not make" (another worker's write)
is an index row removed behind the store's back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emr.api_support import system_client, user_client
from tests.emr.conftest import observation, patient
from yunyi.emr.care import patient_record_ensure
from yunyi.emr.models import ReferenceIndex
from yunyi.emr.store import totals

pytestmark = pytest.mark.django_db


def _seed(client: Any, patient_id: str, count: int, *, with_patient: bool = True) -> list[str]:
    if with_patient:
        assert client.put_fhir(f"Patient/{patient_id}", patient(patient_id)).status_code == 201
    created = []
    for day in range(1, count + 1):
        response = client.post_fhir(
            "Observation", observation(patient=patient_id, effective=f"2021-06-0{day}T10:00:00Z")
        )
        assert response.status_code == 201
        created.append(str(response.json()["id"]))
    return created


def _total(client: Any, query: str) -> int:
    response = client.get_fhir(query)
    assert response.status_code == 200
    return int(response.json()["total"])


def _unseen_removal(observation_id: str) -> None:
    """The observation leaves the `patient` index without this process writing anything."""
    removed, _kinds = ReferenceIndex.objects.filter(
        resource__fhir_id=observation_id, param__in=("patient", "subject")
    ).delete()
    assert removed >= 1


def test_a_repeated_search_reuses_its_count_but_an_accurate_total_counts() -> None:
    client = system_client()
    ids = _seed(client, "t1", 4)
    query = "Observation?patient=t1&_count=2"
    assert _total(client, query) == 4
    _unseen_removal(ids[0])
    assert _total(client, query) == 4  # reused: within the time, nothing written here
    assert _total(client, query + "&_total=estimate") == 4
    assert _total(client, query + "&_total=accurate") == 3


def test_a_write_of_the_searched_type_in_this_process_drops_the_count() -> None:
    client = system_client()
    ids = _seed(client, "t2", 4)
    query = "Observation?patient=t2&_count=1"
    assert _total(client, query) == 4
    _unseen_removal(ids[0])
    _unseen_removal(ids[1])
    # Another type written: the Observation count stays.
    assert client.put_fhir("Patient/other", patient("other")).status_code == 201
    assert _total(client, query) == 4
    created = client.post_fhir("Observation", observation(patient="t2"))
    assert created.status_code == 201
    assert _total(client, query) == 3  # counted again: 4 - 2 unseen + 1 new


def test_counts_are_kept_per_criteria() -> None:
    client = system_client()
    _seed(client, "a", 3)
    _seed(client, "b", 4)
    assert _total(client, "Observation?patient=a&_count=1") == 3
    assert _total(client, "Observation?patient=b&_count=1") == 4
    assert _total(client, "Observation?_count=1") == 7


def test_a_patient_token_gets_its_own_compartments_count(make_user: Any) -> None:
    first, second = make_user(roles=["patient"]), make_user(roles=["patient"])
    system = system_client()
    for user, count in ((first, 3), (second, 2)):
        patient_record_ensure(user=user)
        _seed(system, str(user.pk), count, with_patient=False)
    query = "Observation?_count=1"
    assert _total(user_client(first, scope="patient/*.rs"), query) == 3
    assert _total(user_client(second, scope="patient/*.rs"), query) == 2


def test_the_count_is_not_reused_after_its_time(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.EMR_ESTIMATED_TOTAL_SECONDS = 10
    clock = [1000.0]
    monkeypatch.setattr(totals.time, "monotonic", lambda: clock[0])
    client = system_client()
    ids = _seed(client, "t3", 3)
    query = "Observation?patient=t3&_count=1"
    assert _total(client, query) == 3
    _unseen_removal(ids[0])
    clock[0] += 9.5
    assert _total(client, query) == 3
    clock[0] += 1
    assert _total(client, query) == 2


def test_zero_seconds_counts_every_time(settings: Any) -> None:
    settings.EMR_ESTIMATED_TOTAL_SECONDS = 0
    client = system_client()
    ids = _seed(client, "t4", 3)
    query = "Observation?patient=t4&_count=1"
    assert _total(client, query) == 3
    _unseen_removal(ids[0])
    assert _total(client, query) == 2


def test_a_page_that_holds_every_match_is_its_own_total() -> None:
    client = system_client()
    ids = _seed(client, "t5", 3)
    assert _total(client, "Observation?patient=t5&_count=2") == 3
    _unseen_removal(ids[0])
    # Two matches now fit on the page: counted from the page, whatever was kept.
    assert _total(client, "Observation?patient=t5&_count=2") == 2
