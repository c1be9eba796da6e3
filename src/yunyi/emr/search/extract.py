"""Index rows from a resource: for each declared search parameter, the values a search compares,
already normalised (FHIR R4 §3.1.1.5, one section per parameter type). Pure: JSON in, rows out.

The element's FHIR type is read from the JSON shape, which the parameter type narrows enough:
a token value is a CodeableConcept (``coding``/``text``), a Coding (``code``), an Identifier or
ContactPoint (``value``) or a primitive; a string value is a primitive, HumanName or Address; a
date value is a primitive, Period or Timing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, NamedTuple

from yunyi.emr.search.dates import DateFormatError, date_range, period_range
from yunyi.emr.search.declarations import ParamType, SearchParameter, indexed_parameters_for
from yunyi.emr.search.paths import compile_expression, evaluate
from yunyi.emr.search.text import index_key, normalize_text


class TokenRow(NamedTuple):
    param: str
    system: str | None
    code: str | None
    text: str  # normalised display / text, for :text


class StringRow(NamedTuple):
    param: str
    normalized: str
    exact: str


class DateRow(NamedTuple):
    param: str
    low: datetime
    high: datetime


class ReferenceRow(NamedTuple):
    param: str
    target_type: str | None
    target_id: str | None
    url: str | None  # absolute, urn or conditional references, kept whole


class QuantityRow(NamedTuple):
    param: str
    value: float
    system: str | None
    code: str | None
    unit: str | None


class UriRow(NamedTuple):
    param: str
    uri: str


class NumberRow(NamedTuple):
    param: str
    value: float


@dataclass(slots=True)
class IndexRows:
    token: list[TokenRow] = field(default_factory=list)
    string: list[StringRow] = field(default_factory=list)
    date: list[DateRow] = field(default_factory=list)
    reference: list[ReferenceRow] = field(default_factory=list)
    quantity: list[QuantityRow] = field(default_factory=list)
    uri: list[UriRow] = field(default_factory=list)
    number: list[NumberRow] = field(default_factory=list)

    def count(self) -> int:
        return sum(
            len(rows)
            for rows in (
                self.token,
                self.string,
                self.date,
                self.reference,
                self.quantity,
                self.uri,
                self.number,
            )
        )


_NAME_PARTS = ("text", "family", "given", "prefix", "suffix")
_ADDRESS_PARTS = ("text", "line", "city", "district", "state", "postalCode", "country")
_REFERENCE = re.compile(
    r"^(?:(?P<base>https?://.+?)/)?(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$"
)


def _key(value: Any) -> str | None:
    return index_key(value) if isinstance(value, str) and value else None


def _tokens(param: str, node: Any) -> Iterable[TokenRow]:
    if isinstance(node, bool):
        yield TokenRow(param, None, "true" if node else "false", "")
    elif isinstance(node, str | int):
        yield TokenRow(param, None, index_key(str(node)), "")
    elif isinstance(node, dict):
        if "coding" in node or ("text" in node and "value" not in node and "code" not in node):
            text = node.get("text")
            codings = [c for c in node.get("coding") or () if isinstance(c, dict)]
            labels = set()
            for coding in codings:
                display = coding.get("display") or text
                label = normalize_text(display) if isinstance(display, str) else ""
                labels.add(label)
                yield TokenRow(param, _key(coding.get("system")), _key(coding.get("code")), label)
            # The concept's own text gets a row when no coding already carries it, for :text.
            if isinstance(text, str) and normalize_text(text) not in labels:
                yield TokenRow(param, None, None, normalize_text(text))
        elif "code" in node:
            display = node.get("display")
            label = normalize_text(display) if isinstance(display, str) else ""
            yield TokenRow(param, _key(node.get("system")), _key(node.get("code")), label)
        elif "value" in node:
            kind = node.get("type")
            kind_text = kind.get("text") if isinstance(kind, dict) else None
            label = normalize_text(kind_text) if isinstance(kind_text, str) else ""
            yield TokenRow(param, _key(node.get("system")), _key(str(node["value"])), label)


def _strings(param: str, node: Any) -> Iterable[StringRow]:
    if isinstance(node, str):
        if node:
            yield StringRow(param, normalize_text(node), index_key(node))
    elif isinstance(node, dict):
        keys = _NAME_PARTS if any(k in node for k in ("family", "given")) else _ADDRESS_PARTS
        for key in keys:
            value = node.get(key)
            for part in value if isinstance(value, list) else (value,):
                if isinstance(part, str) and part:
                    yield StringRow(param, normalize_text(part), index_key(part))


def _dates(param: str, node: Any) -> Iterable[DateRow]:
    try:
        if isinstance(node, str):
            yield DateRow(param, *date_range(node))
        elif isinstance(node, dict):
            if "start" in node or "end" in node:
                span = period_range(node)
                if span is not None:
                    yield DateRow(param, *span)
            elif "event" in node or "repeat" in node:
                for event in node.get("event") or ():
                    if isinstance(event, str):
                        yield DateRow(param, *date_range(event))
                bounds = (node.get("repeat") or {}).get("boundsPeriod")
                if isinstance(bounds, dict):
                    span = period_range(bounds)
                    if span is not None:
                        yield DateRow(param, *span)
    except DateFormatError:
        return


def parse_reference(reference: str, *, local_base: str | None = None) -> ReferenceRow | None:
    """A literal reference as (type, id, url); contained references (``#id``) are not indexed.
    References under `local_base` count as local; other absolute, ``urn:`` and conditional
    references keep their text in `url`."""
    if not reference or reference.startswith("#"):
        return None
    if local_base and reference.startswith(local_base.rstrip("/") + "/"):
        reference = reference[len(local_base.rstrip("/")) + 1 :]
    match = _REFERENCE.match(reference)
    if match is None:
        kind = reference.split("?", 1)[0] if "?" in reference else None
        target_type = kind if kind and kind.isalpha() and kind[0].isupper() else None
        return ReferenceRow("", target_type, None, index_key(reference))
    url = index_key(reference) if match.group("base") else None
    return ReferenceRow("", match.group("type"), match.group("id"), url)


def _references(
    param: SearchParameter, node: Any, local_base: str | None
) -> Iterable[ReferenceRow]:
    text = node.get("reference") if isinstance(node, dict) else node
    if not isinstance(text, str):
        return
    row = parse_reference(text, local_base=local_base)
    if row is None:
        return
    if param.targets and row.target_type is not None and row.target_type not in param.targets:
        return
    yield row._replace(param=param.name)


def _quantities(param: str, node: Any) -> Iterable[QuantityRow]:
    if isinstance(node, dict):
        value = node.get("value")
        if isinstance(value, int | float) and not isinstance(value, bool):
            code = node.get("code") or node.get("currency")
            yield QuantityRow(
                param, float(value), _key(node.get("system")), _key(code), _key(node.get("unit"))
            )


@cache
def _extraction_plan(
    resource_type: str,
) -> tuple[tuple[SearchParameter, frozenset[str] | None], ...]:
    """The indexed parameters of a type, each with the element names its paths start from (None:
    a path that starts from the resource itself). A parameter none of whose elements a resource
    has selects nothing in it, so `extract_index_rows` skips it: a resource holds a handful of
    the ~30 elements its parameters reach. Parameters of other roots are dropped once here."""
    plan: list[tuple[SearchParameter, frozenset[str] | None]] = []
    for param in indexed_parameters_for(resource_type):
        first: set[str] = set()
        whole = False
        for path in compile_expression(param.expression):
            if path.root not in (resource_type, "Resource"):
                continue
            if not path.steps or path.steps[0].name is None:
                whole = True
            else:
                first.add(path.steps[0].name)
        if whole or first:
            plan.append((param, None if whole else frozenset(first)))
    return tuple(plan)


@lru_cache(maxsize=4096)
def _names_of_key(key: str) -> tuple[str, ...]:
    """The element names a path step may use to reach this JSON key: the key itself and, for a
    choice element (``effectiveDateTime``), each base before a capital (``effective``), as
    `yunyi.emr.search.paths` matches them."""
    return (key, *(key[:i] for i in range(1, len(key)) if key[i].isupper()))


def extract_index_rows(resource: dict[str, Any], *, local_base: str | None = None) -> IndexRows:
    """The index rows of every declared parameter of the resource's type, without duplicates."""
    rows = IndexRows()
    present = {name for key in resource if isinstance(key, str) for name in _names_of_key(key)}
    for param, first in _extraction_plan(str(resource.get("resourceType"))):
        if first is not None and present.isdisjoint(first):
            continue
        nodes = evaluate(resource, param.expression)
        if not nodes:
            continue
        name = param.name
        match param.type:
            case ParamType.TOKEN:
                rows.token.extend(dict.fromkeys(r for n in nodes for r in _tokens(name, n)))
            case ParamType.STRING:
                rows.string.extend(dict.fromkeys(r for n in nodes for r in _strings(name, n)))
            case ParamType.DATE:
                rows.date.extend(dict.fromkeys(r for n in nodes for r in _dates(name, n)))
            case ParamType.REFERENCE:
                rows.reference.extend(
                    dict.fromkeys(r for n in nodes for r in _references(param, n, local_base))
                )
            case ParamType.QUANTITY:
                rows.quantity.extend(dict.fromkeys(r for n in nodes for r in _quantities(name, n)))
            case ParamType.URI:
                rows.uri.extend(
                    dict.fromkeys(
                        UriRow(name, index_key(n)) for n in nodes if isinstance(n, str) and n
                    )
                )
            case ParamType.NUMBER:
                rows.number.extend(
                    dict.fromkeys(
                        NumberRow(name, float(n))
                        for n in nodes
                        if isinstance(n, int | float) and not isinstance(n, bool)
                    )
                )
    return rows
