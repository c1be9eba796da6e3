"""A parsed FHIR search: typed criteria and result parameters, ready for a store to execute.

Criteria are AND-ed; the values inside one criterion are OR-ed (FHIR R4 §3.1.1.3.2: a repeated
parameter is AND, a comma is OR).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from yunyi.emr.search.dates import MAX_DATETIME, MIN_DATETIME
from yunyi.emr.search.declarations import SearchParameter


class Prefix(StrEnum):
    """Comparison prefixes of ordered values (FHIR R4 §3.1.1.4.1 "prefix")."""

    EQ = "eq"
    NE = "ne"
    GT = "gt"
    LT = "lt"
    GE = "ge"
    LE = "le"
    SA = "sa"
    EB = "eb"
    AP = "ap"


class Modifier(StrEnum):
    MISSING = "missing"
    EXACT = "exact"
    CONTAINS = "contains"
    TEXT = "text"
    NOT = "not"
    BELOW = "below"
    TYPE = "type"  # reference restricted to one target type (`subject:Patient`)


class TotalMode(StrEnum):
    NONE = "none"
    ESTIMATE = "estimate"
    ACCURATE = "accurate"


@dataclass(frozen=True, slots=True)
class TokenValue:
    """`code` (any system), `system|code`, `|code` (no system: system_given and system None) or
    `system|` (any code in the system: code None)."""

    system: str | None
    code: str | None
    system_given: bool


@dataclass(frozen=True, slots=True)
class TextValue:
    text: str  # normalised


@dataclass(frozen=True, slots=True)
class StringValue:
    text: str  # as given; the store normalises for default and :contains matching


@dataclass(frozen=True, slots=True)
class DateValue:
    prefix: Prefix
    low: datetime
    high: datetime


@dataclass(frozen=True, slots=True)
class NumberValue:
    """`low`/`high` bound the implicit precision of the given number: 100 means [99.5, 100.5)."""

    prefix: Prefix
    value: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True, slots=True)
class QuantityValue:
    number: NumberValue
    system: str | None
    code: str | None


@dataclass(frozen=True, slots=True)
class ReferenceValue:
    target_type: str | None
    target_id: str | None
    url: str | None


@dataclass(frozen=True, slots=True)
class UriValue:
    uri: str


Value = (
    TokenValue
    | TextValue
    | StringValue
    | DateValue
    | NumberValue
    | QuantityValue
    | ReferenceValue
    | UriValue
)


@dataclass(frozen=True, slots=True)
class Criterion:
    """One parameter occurrence. `missing` is set for `:missing`; `chain` is the criterion on the
    referenced resource for a chained parameter (`subject:Patient.name=x`), whose type is
    `target_type`."""

    param: SearchParameter
    values: tuple[Value, ...] = ()
    modifier: Modifier | None = None
    missing: bool | None = None
    target_type: str | None = None
    chain: Criterion | None = None


@dataclass(frozen=True, slots=True)
class SortKey:
    param: SearchParameter
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Include:
    """`_include=source:param[:target]` or `_revinclude=source:param[:target]` (one level)."""

    source_type: str
    param: SearchParameter
    target_type: str | None = None


@dataclass(frozen=True, slots=True)
class SearchPlan:
    resource_type: str
    criteria: tuple[Criterion, ...] = ()
    sort: tuple[SortKey, ...] = ()
    count: int | None = None
    total: TotalMode | None = None
    summary: str | None = None
    elements: tuple[str, ...] = ()
    includes: tuple[Include, ...] = ()
    revincludes: tuple[Include, ...] = ()
    unknown: tuple[str, ...] = field(default=())

    @property
    def summary_count(self) -> bool:
        return self.summary == "count"


def approximate_range(low: datetime, high: datetime, *, now: datetime) -> tuple[datetime, datetime]:
    """The range `ap` accepts: the value widened by 10% of its distance from now (at least a day),
    FHIR R4 §3.1.1.4.1.1 leaving the exact width to the server."""
    distance = abs(now - low)
    margin = max(distance / 10, timedelta(days=1))
    wide_low = low - margin if low - MIN_DATETIME > margin else MIN_DATETIME
    wide_high = high + margin if MAX_DATETIME - high > margin else MAX_DATETIME
    return wide_low, wide_high
