"""The client's address behind the proxy (`ProxiedClientMiddleware`): taken from the X-Real-IP
nginx overwrites when `BEHIND_PROXY` is on, so audit entries name the client and not the
proxy's socket; ignored otherwise, and ignored when it is not one IP address."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emr.api_support import system_client
from tests.emr.conftest import patient
from yunyi.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def _audited_address(**headers: str) -> str:
    client = system_client()
    created = client.put_fhir("Patient/px", patient("px"))
    assert created.status_code in (200, 201)
    assert client.get_fhir("Patient/px", **headers).status_code == 200
    entry = AuditEntry.objects.filter(action="fhir.read").order_by("-seq").first()
    assert entry is not None
    return str(entry.address)


def test_behind_the_proxy_the_audit_names_the_client(settings: Any) -> None:
    settings.BEHIND_PROXY = True
    assert _audited_address(**{"X-Real-IP": "203.0.113.7"}) == "203.0.113.7"
    assert _audited_address(**{"X-Real-IP": " 2001:db8::1 "}) == "2001:db8::1"


@pytest.mark.parametrize("forged", ["203.0.113.7, 198.51.100.1", "localhost", "", "1.2.3.4.5"])
def test_a_header_that_is_not_one_address_is_ignored(settings: Any, forged: str) -> None:
    settings.BEHIND_PROXY = True
    assert _audited_address(**{"X-Real-IP": forged}) == "127.0.0.1"


def test_without_the_proxy_the_header_is_ignored(settings: Any) -> None:
    settings.BEHIND_PROXY = False
    assert _audited_address(**{"X-Real-IP": "203.0.113.7"}) == "127.0.0.1"
