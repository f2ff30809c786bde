"""Walk a verification's JMESPath through botocore's output shape (member names as boto3 has
them) and collect the error codes an operation is modelled to return."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
import jmespath.parser
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, StructureShape


@cache
def service_model(api: str) -> ServiceModel:
    """botocore's model of a service, loaded once."""
    return botocore.session.get_session().get_service_model(api)


#: Where a walk ends when the shape cannot say (functions, literals).
ANY = "any"


@dataclass(frozen=True)
class ListOf:
    """The result of a projection: a list of `element`."""

    element: Any


def element(where: Any) -> Any:
    """One item of a list, or the thing itself where a single object stands for the list."""
    if isinstance(where, ListOf):
        return where.element
    if isinstance(where, ListShape):
        return where.member
    return where


@dataclass
class OutputWalker:
    """Walks expressions over one operation's output shape, noting members that do not exist."""

    operation: OperationModel
    problems: list[str] = field(default_factory=list)

    def walk(self, text: str, base: Any) -> Any:
        parsed: dict[str, Any] = dict(jmespath.parser.Parser().parse(text).parsed)
        return self._walk(parsed, base, text)

    def _walk(self, node: dict[str, Any], where: Any, text: str) -> Any:
        kind = node["type"]
        children = node.get("children", [])
        if kind == "field":
            return self._field(where, node["value"], text)
        if kind in ("identity", "current"):
            return where
        if kind == "index":
            return element(where)
        if kind in ("subexpression", "index_expression", "pipe"):
            for child in children:
                where = self._walk(child, where, text)
            return where
        if kind in ("flatten", "projection", "filter_projection"):
            return self._projection(kind, children, where, text)
        for child in children:
            self._walk(child, where, text)
        return ANY

    def _projection(self, kind: str, children: list[Any], where: Any, text: str) -> ListOf:
        left = self._walk(children[0], where, text)
        if kind == "flatten":
            inner = element(left)
            return ListOf(element(inner) if isinstance(inner, ListShape | ListOf) else inner)
        if kind == "filter_projection":
            self._walk(children[2], element(left), text)
        return ListOf(self._walk(children[1], element(left), text))

    def _field(self, where: Any, name: str, text: str) -> Any:
        if where == ANY:
            return ANY
        if isinstance(where, StructureShape):
            if name in where.members:
                return where.members[name]
            self.problems.append(
                f"{text}: no `{name}` in {where.name} ({', '.join(sorted(where.members))})"
            )
            return ANY
        if isinstance(where, MapShape):
            return where.value
        shown = "a list (a `[]` is missing)" if isinstance(where, ListOf | ListShape) else where
        self.problems.append(f"{text}: `{name}` applied to {shown}")
        return ANY


def error_codes(service: ServiceModel) -> set[str]:
    """The error codes botocore models for a service (empty where it models none): each
    exception shape's name, and its wire code where that differs."""
    codes: set[str] = set()
    for name in service.shape_names:
        shape = service.shape_for(name)
        if not shape.metadata.get("exception"):
            continue
        codes.add(shape.name)
        code = shape.metadata.get("error", {}).get("code")
        if code:
            codes.add(str(code))
    return codes
