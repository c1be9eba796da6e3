"""Stored documents are compact JSON text (`DocumentField`, migration emr.0008): what is written
reads back equal, the column holds exactly the text a search response carries, and documents
stored as JSONB before the migration read back unchanged after it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests.emr.conftest import patient
from tests.support.migrations import migrate, migrated_back
from yunyi.emr.fields import DocumentField
from yunyi.emr.models import CurrentResource, ResourceVersion
from yunyi.emr.store.django_store import DjangoResourceStore

BEFORE = [("emr", "0007_record_access_keyed_by_lookup")]
AFTER = [("emr", "0008_documents_as_text")]


def _stored_text(model: type[Any], pk: int) -> str:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('document')} FROM {quote(model._meta.db_table)} "
            f"WHERE {quote('id')} = %s",
            [pk],
        )
        (text,) = cursor.fetchone()
    assert isinstance(text, str)
    return text


@pytest.mark.django_db
def test_a_document_is_stored_as_its_compact_text_and_reads_back_equal() -> None:
    resource = patient("doc-text", family="王", given="小明")
    created = DjangoResourceStore().create(resource)
    row = CurrentResource.objects.get(resource_type="Patient", fhir_id=created.id)
    version = ResourceVersion.objects.get(resource=row, version_id=1)

    assert row.document == version.document == created.resource
    text = _stored_text(CurrentResource, row.pk)
    assert "王" in text and "\\u" not in text  # non-ASCII kept as it is
    assert ": " not in text and ", " not in text  # compact separators
    assert _stored_text(ResourceVersion, version.pk) == text
    read = DjangoResourceStore().read("Patient", created.id)
    assert read.resource == created.resource


@pytest.mark.django_db
def test_a_deleted_resource_keeps_no_document() -> None:
    created = DjangoResourceStore().create(patient("doc-deleted", family="Li"))
    DjangoResourceStore().delete("Patient", created.id)
    row = CurrentResource.objects.get(resource_type="Patient", fhir_id=created.id)
    assert row.deleted and row.document is None


@pytest.mark.parametrize("value", ["[1, 2]", '"text"', "{not json", 7])
def test_only_a_json_object_is_a_document(value: Any) -> None:
    with pytest.raises(ValidationError):
        DocumentField().to_python(value)


def test_json_text_in_any_spelling_reads_as_its_object() -> None:
    field = DocumentField()
    assert field.to_python('{"a": [1, 2], "b": "\\u738b"}') == {"a": [1, 2], "b": "王"}
    assert field.get_prep_value({"a": [1, 2], "b": "王"}) == '{"a":[1,2],"b":"王"}'
    assert field.get_prep_value(None) is None
    # An integer beyond 64 bits, which orjson refuses, is written by the standard library.
    big = f'{{"n":{2**70}}}'
    assert field.get_prep_value({"n": 2**70}) == big
    assert field.to_python(big) == {"n": 2**70}


@pytest.mark.django_db(transaction=True)
def test_documents_stored_before_the_migration_read_back_unchanged_after_it() -> None:
    document = {
        "resourceType": "Patient",
        "id": "before-0008",
        "meta": {"versionId": "1", "lastUpdated": "2026-01-02T03:04:05Z"},
        "name": [{"family": "张", "given": ["三"]}],
        "multipleBirthInteger": 2,
        "active": True,
    }
    with migrated_back("emr", BEFORE) as old_apps:
        current = old_apps.get_model("emr", "CurrentResource")
        version = old_apps.get_model("emr", "ResourceVersion")
        at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        row = current.objects.create(
            resource_type="Patient",
            fhir_id="before-0008",
            version_id=1,
            last_updated=at,
            document=document,
        )
        version.objects.create(
            resource=row,
            resource_type="Patient",
            fhir_id="before-0008",
            version_id=1,
            last_updated=at,
            method="create",
            document=document,
        )
        migrate(AFTER)
    assert CurrentResource.objects.get(fhir_id="before-0008").document == document
    assert ResourceVersion.objects.get(fhir_id="before-0008").document == document
    store = DjangoResourceStore()
    assert store.read("Patient", "before-0008").resource == document
    assert store.vread("Patient", "before-0008", "1").resource == document
