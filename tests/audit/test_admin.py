from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.audit.support import CONTEXT, stored_rows
from yunyi.audit.models import AuditEntry
from yunyi.audit.services import audit_record

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/audit/auditentry/"


@pytest.fixture
def superuser_client(client: Client, verified_login: Any) -> Client:
    superuser = get_user_model().objects.create_superuser(
        username="root", email="root@example.org", password=None
    )
    return verified_login(client, superuser)


@pytest.fixture
def entries() -> list[AuditEntry]:
    recorded = [
        audit_record(context=CONTEXT, action="auth.login", object_type="User", object_id="u1"),
        audit_record(
            context=CONTEXT,
            action="auth.login_failed",
            outcome="failure",
            object_type="User",
            object_id="u2",
        ),
        audit_record(
            context=CONTEXT, action="record.read", object_type="Patient", object_id="u1", alert=True
        ),
    ]
    return [entry for entry in recorded if entry is not None]


def _listed(client: Client, query: str = "") -> list[int]:
    response = client.get(CHANGELIST + query)
    assert response.status_code == 200
    return [entry.seq for entry in response.context["cl"].result_list]


def test_admin_lists_entries_newest_first(
    superuser_client: Client, entries: list[AuditEntry]
) -> None:
    assert _listed(superuser_client) == [3, 2, 1]


def test_admin_filters_by_action_outcome_and_alert(
    superuser_client: Client, entries: list[AuditEntry]
) -> None:
    assert _listed(superuser_client, "?action=auth.login") == [1]
    assert _listed(superuser_client, "?outcome__exact=failure") == [2]
    assert _listed(superuser_client, "?alert__exact=1") == [3]


def test_admin_searches_by_exact_object_id(
    superuser_client: Client, entries: list[AuditEntry]
) -> None:
    assert _listed(superuser_client, "?q=u1") == [3, 1]
    assert _listed(superuser_client, "?q=u") == []


def test_admin_shows_an_entry_read_only(
    superuser_client: Client, entries: list[AuditEntry]
) -> None:
    response = superuser_client.get(f"{CHANGELIST}{entries[0].pk}/change/")
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    assert response.context["has_delete_permission"] is False


def test_admin_refuses_to_add_change_or_delete(
    superuser_client: Client, entries: list[AuditEntry]
) -> None:
    before = stored_rows()
    pk = entries[0].pk
    assert superuser_client.get(f"{CHANGELIST}add/").status_code == 403
    assert superuser_client.post(f"{CHANGELIST}add/", {"action": "forged"}).status_code == 403
    assert (
        superuser_client.post(f"{CHANGELIST}{pk}/change/", {"action": "forged"}).status_code == 403
    )
    assert superuser_client.get(f"{CHANGELIST}{pk}/delete/").status_code == 403
    assert superuser_client.post(f"{CHANGELIST}{pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = superuser_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [pk]}
    )
    assert bulk.status_code == 200
    assert stored_rows() == before
