"""FHIR resources as JSON documents, their version history, and search index rows.

`CurrentResource` holds the newest version of each resource (a tombstone once deleted);
`ResourceVersion` keeps every version whole. The index tables hold the extracted search values of
current, non-deleted versions only, one table per parameter type, each with two composite indexes:
``(resource_type, param, value…)`` to find resources by value, and ``(resource, param, value…)`` to
test or sort a given resource by value (the probe side of a semi-join and the sort subquery).
"""

from __future__ import annotations

from django.db import models

from yunyi.emr.fields import DocumentField, PatientIdsField

KEY = 255  # bounded index keys: see yunyi.emr.search.text.MAX_KEY
# Index columns use NULL for "the element has no such part" (a coding without a system, a
# conditional reference without an id): FHIR's `|code` asks for exactly that, and an empty string
# is a (bad but possible) value of its own. Hence the DJ001 exemptions below.


class CurrentResource(models.Model):
    resource_type = models.CharField(max_length=64)
    fhir_id = models.CharField(max_length=64)
    version_id = models.PositiveIntegerField()
    last_updated = models.DateTimeField()
    deleted = models.BooleanField(default=False)
    document = DocumentField(null=True)  # the whole resource with id and meta; null when deleted
    # Which index tables hold rows of this resource (bit i: emr.store.indexing.INDEX_TABLES[i]), so
    # an update clears only those tables instead of issuing a DELETE on all seven.
    indexed_tables = models.PositiveSmallIntegerField(default=0)
    # The ids of the patients whose record the version belongs to (its Patient compartment,
    # `search.compartment`), kept at write time: every search names them in its audit entry, and
    # reading them here spares parsing each returned document. NULL for rows written before
    # migration 0009 (and tombstones): those are derived from the document.
    patients = PatientIdsField(null=True)  # NULL: not kept; empty: in no patient's record

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "fhir_id"], name="emr_resource_unique_id"
            )
        ]
        indexes = [
            models.Index(fields=["resource_type", "last_updated"], name="emr_resource_updated")
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.fhir_id}/_history/{self.version_id}"


class VersionMethod(models.TextChoices):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class ResourceVersion(models.Model):
    """One version, never changed once written. Type and id are repeated so type- and
    system-level history read this table alone."""

    resource = models.ForeignKey(
        CurrentResource, on_delete=models.CASCADE, related_name="versions", db_index=False
    )
    resource_type = models.CharField(max_length=64)
    fhir_id = models.CharField(max_length=64)
    version_id = models.PositiveIntegerField()
    last_updated = models.DateTimeField()
    method = models.CharField(max_length=6, choices=VersionMethod.choices)
    document = DocumentField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resource", "version_id"], name="emr_version_unique")
        ]
        indexes = [
            models.Index(fields=["resource_type", "last_updated"], name="emr_version_type_updated"),
            models.Index(fields=["last_updated"], name="emr_version_updated"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.fhir_id}/_history/{self.version_id}"


class SearchIndexRow(models.Model):
    resource = models.ForeignKey(
        CurrentResource, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    resource_type = models.CharField(max_length=64)
    param = models.CharField(max_length=64)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.resource_type}.{self.param} of #{self.resource_id}"


class TokenIndex(SearchIndexRow):
    system = models.CharField(max_length=KEY, null=True)  # noqa: DJ001
    code = models.CharField(max_length=KEY, null=True)  # noqa: DJ001
    text = models.CharField(max_length=KEY, blank=True)

    class Meta:
        indexes = [
            # The resource id last: a search by a code pages through its matches in id order and
            # counts them from the index alone (an index-only scan), never reading the rows.
            models.Index(
                fields=["resource_type", "param", "code", "system", "resource"],
                name="emr_token_value_resource",
            ),
            models.Index(fields=["resource", "param", "code"], name="emr_token_resource"),
        ]


class StringIndex(SearchIndexRow):
    normalized = models.CharField(max_length=KEY)
    exact = models.CharField(max_length=KEY)

    class Meta:
        indexes = [
            # varchar_pattern_ops lets PostgreSQL answer prefix LIKE from the index under any
            # collation; other databases ignore the operator class.
            models.Index(
                fields=["resource_type", "param", "normalized"],
                name="emr_string_value",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(fields=["resource", "param", "normalized"], name="emr_string_resource"),
        ]


class DateIndex(SearchIndexRow):
    low = models.DateTimeField()  # inclusive
    high = models.DateTimeField()  # exclusive

    class Meta:
        indexes = [
            models.Index(fields=["resource_type", "param", "low"], name="emr_date_low"),
            models.Index(fields=["resource_type", "param", "high"], name="emr_date_high"),
            models.Index(fields=["resource", "param", "low", "high"], name="emr_date_resource"),
        ]


class ReferenceIndex(SearchIndexRow):
    target_type = models.CharField(max_length=64, null=True)  # noqa: DJ001
    target_id = models.CharField(max_length=64, null=True)  # noqa: DJ001
    url = models.CharField(max_length=KEY, null=True)  # noqa: DJ001

    class Meta:
        indexes = [
            # The resource id last, as for tokens: a patient's resources from the index alone.
            models.Index(
                fields=["resource_type", "param", "target_id", "target_type", "resource"],
                name="emr_ref_target_resource",
            ),
            models.Index(fields=["target_id", "target_type"], name="emr_ref_compartment"),
            models.Index(fields=["resource_type", "param", "url"], name="emr_ref_url"),
            models.Index(fields=["resource", "param", "target_id"], name="emr_ref_resource"),
        ]


class QuantityIndex(SearchIndexRow):
    value = models.FloatField()
    system = models.CharField(max_length=KEY, null=True)  # noqa: DJ001
    code = models.CharField(max_length=KEY, null=True)  # noqa: DJ001
    unit = models.CharField(max_length=KEY, null=True)  # noqa: DJ001

    class Meta:
        indexes = [
            models.Index(
                fields=["resource_type", "param", "code", "value"], name="emr_quantity_value"
            ),
            models.Index(fields=["resource", "param", "value"], name="emr_quantity_resource"),
        ]


class UriIndex(SearchIndexRow):
    uri = models.CharField(max_length=KEY)

    class Meta:
        indexes = [
            models.Index(fields=["resource_type", "param", "uri"], name="emr_uri_value"),
            models.Index(fields=["resource", "param", "uri"], name="emr_uri_resource"),
        ]


class NumberIndex(SearchIndexRow):
    value = models.FloatField()

    class Meta:
        indexes = [
            models.Index(fields=["resource_type", "param", "value"], name="emr_number_value"),
            models.Index(fields=["resource", "param", "value"], name="emr_number_resource"),
        ]


class CareRelationship(models.Model):
    """An explicit grant that lets a practitioner see one patient's record until `expires_at`
    (None: until ended). Written by the consultation workflow or an admin; the patient's own
    active `Consent` resources grant the same without a row here."""

    practitioner = models.ForeignKey(
        "accounts.User", on_delete=models.CASCADE, related_name="care_relationships"
    )
    patient_id = models.CharField(max_length=64)  # the FHIR Patient id (a user's UUID)
    reason = models.CharField(max_length=500)
    granted_by = models.CharField(max_length=64, blank=True)  # actor id, as in the audit trail
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["practitioner", "patient_id"], name="emr_care_practitioner"),
        ]

    def __str__(self) -> str:
        return f"care of Patient/{self.patient_id} by #{self.practitioner_id}"


class RecordAccess(models.Model):
    """Which patients' records an audit entry touched, so "who accessed my record" is an index
    lookup rather than a scan of the audit trail's JSON details (`audit_seq` is `AuditEntry.seq`).
    Projected from the entries' `detail["patients"]` in batches (`yunyi.emr.access_log`): the
    entry itself, written with the access, is the record; these rows are its index."""

    # Looked up by patient (and time) only, for the entries' sequence numbers, and written a row
    # per patient by every audited read: the key is that lookup, with no surrogate id (and its
    # own index) beside it.
    pk = models.CompositePrimaryKey("patient_id", "at", "audit_seq")
    audit_seq = models.BigIntegerField()
    patient_id = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        db_table = "emr_record_access"

    def __str__(self) -> str:
        return f"audit #{self.audit_seq} on Patient/{self.patient_id}"


class RecordAccessProgress(models.Model):
    """One row: the audit sequence number up to which `RecordAccess` rows have been projected.
    Locking it serialises projections."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    audit_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"record access projected to audit #{self.audit_seq}"
