"""A small FHIRPath subset over resource JSON: enough for search parameter expressions.

Grammar: ``path ('|' path)*``; ``path = Type ('.' step)*``; ``step = name | where(field='value')``.
A name that is absent from an object but is the base of a choice element (``effective`` for
``effectiveDateTime``/``effectivePeriod``) yields every present choice. Lists are flattened, as
FHIRPath does. The leading type must match the resource (``Resource`` matches any).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

_WHERE = re.compile(r"^where\((\w+)\s*=\s*'([^']*)'\)$")
_STEP = re.compile(r"where\(\w+\s*=\s*'[^']*'\)|[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Step:
    name: str | None  # element name, or None for a where() filter
    field: str | None = None
    equals: str | None = None


@dataclass(frozen=True, slots=True)
class Path:
    root: str
    steps: tuple[Step, ...]


class PathSyntaxError(ValueError):
    pass


@cache
def compile_expression(expression: str) -> tuple[Path, ...]:
    """Parse an expression once; the result is cached per expression string."""
    paths: list[Path] = []
    for alternative in expression.split("|"):
        text = alternative.strip()
        root, _, rest = text.partition(".")
        if not root.isidentifier():
            raise PathSyntaxError(f"bad path root in {expression!r}")
        steps: list[Step] = []
        position = 0
        while position < len(rest):
            match = _STEP.match(rest, position)
            if match is None:
                raise PathSyntaxError(f"bad step in {expression!r} at {rest[position:]!r}")
            token = match.group(0)
            where = _WHERE.match(token)
            steps.append(Step(None, where.group(1), where.group(2)) if where else Step(token))
            position = match.end()
            if position < len(rest):
                if rest[position] != ".":
                    raise PathSyntaxError(f"expected '.' in {expression!r}")
                position += 1
        paths.append(Path(root, tuple(steps)))
    return tuple(paths)


_MISSING: Any = object()


def _step(nodes: list[Any], name: str) -> list[Any]:
    """The children named `name` of every object among `nodes`, lists flattened. The common case
    (the key is there) is a lookup; only an absent name costs a scan for its choice keys."""
    found: list[Any] = []
    for node in nodes:
        if not isinstance(node, dict):
            continue
        value = node.get(name, _MISSING)
        if value is _MISSING:
            found.extend(_choices(node, name))
        elif isinstance(value, list):
            found.extend(value)
        elif value is not None:
            found.append(value)
    return found


def _choices(node: dict[str, Any], name: str) -> Iterator[Any]:
    # Choice element [x]: the JSON key is the base name followed by a capitalised type name.
    size = len(name)
    for key, value in node.items():
        if len(key) > size and key.startswith(name) and key[size].isupper():
            if isinstance(value, list):
                yield from value
            elif value is not None:
                yield value


def evaluate(resource: dict[str, Any], expression: str) -> list[Any]:
    """Every value the expression selects in `resource`, in document order."""
    resource_type = resource.get("resourceType")
    found: list[Any] = []
    for path in compile_expression(expression):
        if path.root != resource_type and path.root != "Resource":
            continue
        nodes: list[Any] = [resource]
        for step in path.steps:
            if step.name is None:
                nodes = [
                    n for n in nodes if isinstance(n, dict) and n.get(step.field) == step.equals
                ]
            else:
                nodes = _step(nodes, step.name)
            if not nodes:
                break
        found.extend(nodes)
    return found
