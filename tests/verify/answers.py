"""Answers shaped by botocore's output shapes, for the Stubber: the required members filled
with placeholders, and a found resource put where a verification's paths read it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape


def placeholder(shape: Shape, depth: int = 0) -> Any:
    """A value of `shape` with every required member (recursively) filled."""
    if isinstance(shape, StructureShape):
        return {
            name: placeholder(shape.members[name], depth + 1)
            for name in shape.required_members
            if depth < 8
        }
    least = int(shape.metadata.get("min", 0))
    if isinstance(shape, ListShape):
        return [placeholder(shape.member, depth + 1) for _ in range(least)]
    if isinstance(shape, MapShape):
        return {}
    if shape.type_name == "string":
        return "x" * max(least, 1)
    return {
        "integer": max(least, 1),
        "long": max(least, 1),
        "boolean": False,
        "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
        "double": 1.0,
        "float": 1.0,
        "blob": b"x",
    }.get(shape.type_name, "x")


def _steps(text: str) -> list[str]:
    """`Reservations[].Instances[]` -> [Reservations, Instances]; `@` -> []."""
    return [part.removesuffix("[]") for part in text.split(".") if part not in ("@", "")]


def put(document: Any, shape: Shape, text: str | None, value: Any = None) -> tuple[Any, Shape]:
    """Walk `text` from `document` (of `shape`), creating what is missing (a list gets one
    element); set `value` at the end when given. Returns the container and shape reached."""
    where, here = document, shape
    steps = _steps(text or "")
    for index, step in enumerate(steps):
        assert isinstance(here, StructureShape), f"{step} on {here.name}"
        member = here.members[step]
        last = index == len(steps) - 1
        if last and value is not None:
            where[step] = value
            return where, member
        if step not in where or where[step] in ([], None):
            where[step] = placeholder(member)
        child = where[step]
        if isinstance(member, ListShape):
            if not child:
                child.append(placeholder(member.member))
            where, here = child[0], member.member
        else:
            where, here = child, member
    if isinstance(here, ListShape):  # the items path ended on the list itself
        if not where:
            where.append(placeholder(here.member))
        return where[0], here.member
    return where, here
