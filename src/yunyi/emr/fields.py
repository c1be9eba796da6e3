"""`DocumentField`: a FHIR resource kept as its compact JSON text. `PatientIdsField`: a set of
FHIR ids kept as text.

The store never looks inside a stored document from SQL: search reads the index tables, and a
read or search sends the document's text as it is (`StoredResource.text`). A JSONB column would
parse every document the store writes into PostgreSQL's binary form and print it back to text on
every read: at a million resources, 6.5 µs of PostgreSQL's CPU per document read, a third of the
database's share of a 50-resource search page. Text costs neither, and is what SQLite keeps too.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.translation import gettext_lazy as _

from yunyi.emr import jsontext

if TYPE_CHECKING:  # django-stubs types a model's attribute by these (a text field's: str)
    _TextField = models.TextField[dict[str, Any] | None, dict[str, Any] | None]
    _IdsTextField = models.TextField[Iterable[str] | None, frozenset[str] | None]
else:
    _TextField = _IdsTextField = models.TextField


class DocumentField(_TextField):
    """A JSON object in a text column: a dict in Python, compact JSON (`jsontext.dumps`) in the
    database. Text written before (JSON in any spelling) reads back the same."""

    description = _("A JSON document kept as text")

    def from_db_value(
        self, value: str | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> dict[str, Any] | None:
        return None if value is None else jsontext.loads(value)

    def to_python(self, value: Any) -> dict[str, Any] | None:
        if value is None or isinstance(value, dict):
            return value
        try:
            document = jsontext.loads(value)
        except (TypeError, ValueError) as error:
            raise ValidationError(_("Enter a valid JSON object."), code="invalid") from error
        if not isinstance(document, dict):
            raise ValidationError(_("Enter a valid JSON object."), code="invalid")
        return document

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return jsontext.dumps(self.to_python(value))

    def value_to_string(self, obj: models.Model) -> str:
        return self.get_prep_value(self.value_from_object(obj)) or ""


class PatientIdsField(_IdsTextField):
    """A set of FHIR ids: a frozenset in Python, the ids sorted and separated by spaces in the
    database (a FHIR id holds no space). NULL stays None, distinct from the empty set ("")."""

    description = _("A set of FHIR ids kept as text")

    def from_db_value(
        self, value: str | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> frozenset[str] | None:
        return None if value is None else frozenset(value.split())

    def to_python(self, value: Any) -> frozenset[str] | None:
        if value is None or isinstance(value, frozenset):
            return value
        if isinstance(value, str):
            return frozenset(value.split())
        return frozenset(value)

    def get_prep_value(self, value: Any) -> str | None:
        ids = self.to_python(value)
        return None if ids is None else " ".join(sorted(ids))
