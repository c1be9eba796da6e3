"""Query string pairs → a `SearchPlan` (FHIR R4 §3.1.1 "Search").

Malformed values (bad dates, prefixes, numbers, modifiers, sort keys) are collected as issues and
raised together as `SearchError`; parameters that are not declared for the type are returned in
`plan.unknown`, for the caller to ignore with a warning or refuse under `Prefer: handling=strict`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from yunyi.emr.search.dates import DateFormatError, date_range
from yunyi.emr.search.declarations import ParamType, SearchParameter, parameters_for
from yunyi.emr.search.extract import parse_reference
from yunyi.emr.search.plan import (
    Criterion,
    DateValue,
    Include,
    Modifier,
    NumberValue,
    Prefix,
    QuantityValue,
    ReferenceValue,
    SearchPlan,
    SortKey,
    StringValue,
    TextValue,
    TokenValue,
    TotalMode,
    UriValue,
    Value,
)
from yunyi.emr.search.text import index_key, normalize_text

DEFAULT_MAX_COUNT = 1000
# Result parameters the store or the API handle themselves, never "unknown".
_PASSTHROUGH = frozenset({"_format", "_pretty", "_elements", "_summary"})
_MODIFIERS: dict[ParamType, frozenset[Modifier]] = {
    ParamType.TOKEN: frozenset({Modifier.TEXT, Modifier.NOT}),
    ParamType.STRING: frozenset({Modifier.EXACT, Modifier.CONTAINS}),
    ParamType.URI: frozenset({Modifier.BELOW}),
    ParamType.REFERENCE: frozenset(),
    ParamType.DATE: frozenset(),
    ParamType.NUMBER: frozenset(),
    ParamType.QUANTITY: frozenset(),
}
_ORDERED = (ParamType.DATE, ParamType.NUMBER, ParamType.QUANTITY)
_RESOURCE_TYPE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True, slots=True)
class SearchIssue:
    code: str  # invalid-value, invalid-date, invalid-prefix, invalid-number, unknown-modifier, ...
    param: str
    message: str


class SearchError(ValueError):
    def __init__(self, issues: list[SearchIssue]) -> None:
        super().__init__("; ".join(f"{i.param}: {i.message}" for i in issues))
        self.issues = issues


class _Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def split_unescaped(value: str, separator: str) -> list[str]:
    """Split on `separator` where it is not escaped with a backslash (FHIR R4 §3.1.1.5.7)."""
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def unescape(value: str) -> str:
    return re.sub(r"\\([,|$\\])", r"\1", value)


def _prefixed(text: str) -> tuple[Prefix, str]:
    head, rest = text[:2], text[2:]
    if head.isalpha() and head in Prefix.__members__.values():
        return Prefix(head), rest
    # Letters before something value-like ("xx2020") are a bad prefix; otherwise a bad value.
    if head.isalpha() and rest[:1] and (rest[0].isdigit() or rest[0] in "+-."):
        raise _Invalid("invalid-prefix", f"unknown prefix {head!r}")
    return Prefix.EQ, text


def _number(text: str, prefix: Prefix) -> NumberValue:
    if not _NUMBER.match(text):
        raise _Invalid("invalid-number", f"not a number: {text!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _Invalid("invalid-number", f"not a number: {text!r}") from None
    exponent = value.as_tuple().exponent
    half = Decimal(5).scaleb(int(exponent) - 1) if isinstance(exponent, int) else Decimal(0)
    return NumberValue(prefix, value, value - half, value + half)


def _value(
    param: SearchParameter, modifier: Modifier | None, target: str | None, raw: str
) -> Value:
    if param.type in _ORDERED:
        prefix, rest = _prefixed(raw)
        if param.type is ParamType.DATE:
            try:
                low, high = date_range(rest)
            except DateFormatError:
                raise _Invalid("invalid-date", f"not a FHIR date: {raw!r}") from None
            return DateValue(prefix, low, high)
        if param.type is ParamType.NUMBER:
            return _number(rest, prefix)
        parts = split_unescaped(rest, "|")
        if len(parts) not in (1, 3):
            raise _Invalid("invalid-value", f"a quantity is number|system|code: {raw!r}")
        number = _number(parts[0], prefix)
        system = index_key(unescape(parts[1])) or None if len(parts) == 3 else None
        code = index_key(unescape(parts[2])) or None if len(parts) == 3 else None
        return QuantityValue(number, system, code)
    if param.type is ParamType.TOKEN:
        if modifier is Modifier.TEXT:
            return TextValue(normalize_text(unescape(raw)))
        parts = split_unescaped(raw, "|")
        if len(parts) > 2:
            raise _Invalid("invalid-value", f"a token is [system|]code: {raw!r}")
        if len(parts) == 1:
            return TokenValue(None, index_key(unescape(parts[0])), False)
        system, code = (index_key(unescape(p)) or None for p in parts)
        if system is None and code is None:
            raise _Invalid("invalid-value", f"empty token: {raw!r}")
        return TokenValue(system, code, True)
    if param.type is ParamType.STRING:
        return StringValue(unescape(raw))
    if param.type is ParamType.URI:
        return UriValue(index_key(unescape(raw)))
    text = unescape(raw)
    if "/" not in text:
        targets = (target,) if target else param.targets
        return ReferenceValue(targets[0] if len(targets) == 1 else None, text, None)
    row = parse_reference(text)
    if row is None or (row.target_id is None and row.url is None):
        raise _Invalid("invalid-value", f"not a reference: {raw!r}")
    if target and row.target_type != target:
        raise _Invalid("invalid-value", f"reference {raw!r} is not to a {target}")
    return ReferenceValue(row.target_type, row.target_id, row.url)


def _criterion(resource_type: str, name: str, raw: str) -> Criterion | None:
    """One parameter occurrence; None when the name is not declared for the type."""
    head, _, chain_rest = name.partition(".")
    base, _, modifier_text = head.partition(":")
    param = parameters_for(resource_type).get(base)
    if param is None:
        return None
    modifier: Modifier | None = None
    target: str | None = None
    if modifier_text:
        if param.type is ParamType.REFERENCE and _RESOURCE_TYPE.match(modifier_text):
            if param.targets and modifier_text not in param.targets:
                raise _Invalid("invalid-modifier", f"{base} cannot refer to {modifier_text}")
            modifier, target = Modifier.TYPE, modifier_text
        else:
            try:
                modifier = Modifier(modifier_text)
            except ValueError:
                raise _Invalid("unknown-modifier", f"unknown modifier :{modifier_text}") from None
            if modifier is not Modifier.MISSING and modifier not in _MODIFIERS[param.type]:
                raise _Invalid(
                    "unknown-modifier", f"modifier :{modifier_text} does not apply to {base}"
                )
    if chain_rest:
        if param.type is not ParamType.REFERENCE or modifier not in (None, Modifier.TYPE):
            raise _Invalid("invalid-chain", f"{base} cannot be chained")
        if target is None:
            if len(param.targets) != 1:
                raise _Invalid(
                    "invalid-chain", f"chain on {base} needs a target type, e.g. {base}:Patient"
                )
            target = param.targets[0]
        inner = _criterion(target, chain_rest, raw)
        if inner is None:
            raise _Invalid(
                "invalid-chain", f"{target} has no search parameter {chain_rest.split('.')[0]!r}"
            )
        return Criterion(param, modifier=modifier, target_type=target, chain=inner)
    if modifier is Modifier.MISSING:
        if raw not in ("true", "false"):
            raise _Invalid("invalid-value", ":missing takes true or false")
        return Criterion(param, modifier=modifier, missing=raw == "true")
    values = tuple(
        _value(param, modifier, target, part) for part in split_unescaped(raw, ",") if part
    )
    if not values:
        return None
    return Criterion(param, values, modifier, target_type=target)


def _sort_keys(resource_type: str, raw: str) -> list[SortKey]:
    keys: list[SortKey] = []
    for part in raw.split(","):
        name = part.strip()
        descending = name.startswith("-")
        name = name.removeprefix("-")
        param = parameters_for(resource_type).get(name)
        if param is None:
            raise _Invalid("invalid-sort", f"cannot sort by {name!r}")
        keys.append(SortKey(param, descending))
    return keys


def _include(raw: str, *, reverse: bool, resource_type: str) -> Include:
    parts = raw.split(":")
    if len(parts) not in (2, 3):
        raise _Invalid("invalid-include", f"expected Type:param[:target], got {raw!r}")
    source, name = parts[0], parts[1]
    if not reverse and source != resource_type:
        raise _Invalid(
            "invalid-include", f"_include source must be {resource_type}, got {source!r}"
        )
    param = parameters_for(source).get(name) if _RESOURCE_TYPE.match(source) else None
    if param is None or param.type is not ParamType.REFERENCE:
        raise _Invalid("invalid-include", f"{source} has no reference parameter {name!r}")
    target = parts[2] if len(parts) == 3 else None
    if target is not None and (
        not _RESOURCE_TYPE.match(target) or (param.targets and target not in param.targets)
    ):
        raise _Invalid("invalid-include", f"{source}:{name} cannot refer to {target!r}")
    return Include(source, param, target)


def parse_search(
    resource_type: str, pairs: Iterable[tuple[str, str]], *, max_count: int = DEFAULT_MAX_COUNT
) -> SearchPlan:
    """The plan for `GET [type]?pairs`; raises SearchError listing every malformed parameter."""
    criteria: list[Criterion] = []
    sort: list[SortKey] = []
    includes: list[Include] = []
    revincludes: list[Include] = []
    unknown: list[str] = []
    issues: list[SearchIssue] = []
    count: int | None = None
    total: TotalMode | None = None
    summary: str | None = None
    elements: tuple[str, ...] = ()
    for name, raw in pairs:
        try:
            if name == "_count":
                if not raw.isdigit():
                    raise _Invalid("invalid-count", f"_count must be a whole number, got {raw!r}")
                count = min(int(raw), max_count)
            elif name == "_sort":
                sort.extend(_sort_keys(resource_type, raw))
            elif name == "_total":
                try:
                    total = TotalMode(raw)
                except ValueError:
                    raise _Invalid(
                        "invalid-value", "_total is none, estimate or accurate"
                    ) from None
            elif name == "_summary":
                if raw not in ("true", "false", "text", "data", "count"):
                    raise _Invalid("invalid-value", "_summary is true, false, text, data or count")
                summary = raw
            elif name == "_elements":
                elements = tuple(e.strip() for e in raw.split(",") if e.strip())
            elif name in ("_include", "_include:iterate", "_revinclude", "_revinclude:iterate"):
                reverse = name.startswith("_revinclude")
                for part in raw.split(","):
                    found = _include(part, reverse=reverse, resource_type=resource_type)
                    (revincludes if reverse else includes).append(found)
            elif name in _PASSTHROUGH:
                continue
            else:
                criterion = _criterion(resource_type, name, raw)
                if criterion is not None:
                    criteria.append(criterion)
                elif (
                    parameters_for(resource_type).get(name.partition(".")[0].partition(":")[0])
                    is None
                ):
                    unknown.append(name)
        except _Invalid as invalid:
            issues.append(SearchIssue(invalid.code, name, invalid.message))
    if issues:
        raise SearchError(issues)
    return SearchPlan(
        resource_type=resource_type,
        criteria=tuple(criteria),
        sort=tuple(sort),
        count=count,
        total=total,
        summary=summary,
        elements=elements,
        includes=tuple(includes),
        revincludes=tuple(revincludes),
        unknown=tuple(unknown),
    )
