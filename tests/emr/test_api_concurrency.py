"""Two clients updating the same resource with the same If-Match at once: exactly one wins
(PostgreSQL; SQLite serialises writers, so there is no race to test)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from tests.emr.api_support import system_client
from tests.emr.conftest import patient
from tests.support.at_once import at_once
from yunyi.emr.models import ResourceVersion

WRITERS = 2


@pytest.mark.postgres
@pytest.mark.spec("FHIR R4", "3.1.0.4.2", "managing resource contention")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_updates_with_the_same_if_match_have_exactly_one_winner() -> None:
    assert connection.vendor == "postgresql"
    client = system_client()
    created = client.post_fhir("Patient", patient("p", family="Start")).json()

    def writer(n: int) -> int:
        body: dict[str, Any] = {**created, "name": [{"family": f"Writer{n}"}]}
        response = client.put_fhir(f"Patient/{created['id']}", body, **{"If-Match": 'W/"1"'})
        return response.status_code

    assert sorted(at_once(writer, WRITERS)) == [200, 412]
    assert ResourceVersion.objects.filter(fhir_id=created["id"]).count() == 2
    current = client.get_fhir(f"Patient/{created['id']}").json()
    assert current["meta"]["versionId"] == "2"
    assert current["name"][0]["family"] in ("Writer0", "Writer1")
