"""Where a catalog rule's JMESPath paths lead in botocore's shapes, with CloudTrail's casing.

CloudTrail writes `requestParameters` and `responseElements` with each protocol's own casing:
query, JSON and REST-XML members in lowerCamelCase (`dBInstanceIdentifier`, `keyId`,
`hostedZone.id`; REST-XML bodies also as in the model: S3's `CreateBucketConfiguration`);
REST-JSON members as in the model, in lowerCamelCase, or by their wire name (`broker-id`); EC2's
by their wire names (`tagSet.items[]`, `tagSpecificationSet.items[]`), and for newer EC2 operations
wrapped in `<Operation>Request` (model names, lists as `{tag, content}`) and `<Operation>Response`
(wire names, lists as `.item`). Query responses may leave out the result wrapper
(`responseElements.dBInstanceIdentifier` for `CreateDBInstanceResult.DBInstance`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
import jmespath.parser
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

#: CloudTrail names with no member of that name in botocore's model, each seen on a real record:
#: (api, name) -> what the name stands for.
FIELD_EXCEPTIONS = {
    ("ec2", "instancesSet"): "InstanceIds, logged as instancesSet.items[].instanceId",
    ("ec2", "zone"): "CreateVolume's AvailabilityZone, in request and response",
    ("ec2", "DelTGwVpcAttachReq"): "DeleteTransitGatewayVpcAttachment's request wrapper",
    ("s3", "bucketName"): "Bucket",
    # Not in a vendored record yet; how CloudTrail parsers everywhere read CreateTags/DeleteTags.
    (
        "ec2",
        "resourcesSet",
    ): "CreateTags' and DeleteTags' Resources: resourcesSet.items[].resourceId",
    ("apigateway", "createStageInput"): "CreateStage's body, wrapped",
}

#: Neither shape nor member: what jmespath's parser calls the record's own fields and literals.
ROOT = "root"
ANY = "any"


@cache
def service_model(api: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(api)


def lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def wire_names(protocol: str, name: str, member: Shape) -> set[str]:
    """The names CloudTrail may log a member under, for a protocol."""
    location = member.serialization.get("name")
    query_name = member.serialization.get("queryName")
    if protocol in ("query", "json"):
        return {lower_camel(name)}
    if protocol in ("rest-json", "rest-xml"):
        return {name, lower_camel(name), *([location] if location else [])}
    names = {name, lower_camel(name)}
    for other in (location, query_name):
        if other:
            names |= {other, lower_camel(other), other[:1].upper() + other[1:]}
    if location and isinstance(member, ListShape) and not location.endswith("Set"):
        names.add(f"{lower_camel(location)}Set")  # tagSpecificationSet, groupSet
    return names


@dataclass(frozen=True)
class ListOf:
    """The result of a projection: a list of `element`."""

    element: Any


@dataclass
class PathChecker:
    """Walks JMESPath trees over one operation's input and output shapes, noting bad paths."""

    api: str
    operation: str
    problems: list[str] = field(default_factory=list)
    checked: int = 0

    def __post_init__(self) -> None:
        model = service_model(self.api)
        self.protocol = model.protocol
        self.model: OperationModel = model.operation_model(self.operation)

    # ------------------------------------------------------------------ public

    def check(self, text: str, base: Any = ROOT) -> Any:
        """Walk one expression from `base` (the record, or an item shape); returns where it ends."""
        parsed: dict[str, Any] = dict(jmespath.parser.Parser().parse(text).parsed)
        return self._walk(parsed, base, text)

    def element(self, where: Any) -> Any:
        """What one item of a list (or a single object where a list may be) is."""
        if isinstance(where, ListOf):
            return where.element
        if isinstance(where, ListShape):
            return where.member
        return where

    # ------------------------------------------------------------------ walking

    def _walk(self, node: dict[str, Any], where: Any, text: str) -> Any:
        kind = node["type"]
        children = node.get("children", [])
        if kind == "field":
            result = self._field(where, node["value"], text)
        elif kind in ("identity", "current"):
            result = where
        elif kind == "index":
            result = self.element(where)
        elif kind in ("subexpression", "index_expression", "pipe"):
            result = where
            for child in children:
                result = self._walk(child, result, text)
        elif kind in ("flatten", "projection", "value_projection", "filter_projection"):
            result = self._projection(kind, children, where, text)
        elif kind in ("or_expression", "and_expression"):
            result = self._walk(children[0], where, text)
            self._walk(children[1], where, text)
        else:  # comparators, functions, multi-selects, not
            for child in children:
                self._walk(child, where, text)
            result = ANY
        return result

    def _projection(self, kind: str, children: list[Any], where: Any, text: str) -> Any:
        left = self._walk(children[0], where, text)
        if kind == "flatten":
            if isinstance(left, ListOf) and isinstance(left.element, ListOf | ListShape):
                return ListOf(self.element(left.element))  # a list of lists, flattened
            return left if isinstance(left, ListOf | ListShape) or left == ANY else ListOf(left)
        if kind == "value_projection":
            return ListOf(self._walk(children[1], self._wrapped(left), text))
        item = self.element(left)
        if kind == "filter_projection":
            self._walk(children[2], item, text)
        return ListOf(self._walk(children[1], item, text))

    def _wrapped(self, where: Any) -> Any:
        """`requestParameters.*`: EC2's one `<Operation>Request` wrapper."""
        if self.protocol == "ec2" and where is self.model.input_shape:
            return where
        self.problems.append(f"`*` is only for EC2's request wrapper ({self.operation})")
        return ANY

    def _field(self, where: Any, name: str, text: str) -> Any:
        if where == ROOT:
            model = self.model
            roots = {"requestParameters": model.input_shape, "responseElements": model.output_shape}
            return roots.get(name) or ANY
        if (self.api, name) in FIELD_EXCEPTIONS or where == ANY:
            self.checked += where != ANY
            return ANY
        if isinstance(where, StructureShape):
            self.checked += 1
            return self._member(where, name, text)
        if isinstance(where, MapShape):
            return where.value
        items = isinstance(where, ListShape) and name in ("items", "item")  # EC2's <set>.items
        content = name == "content" and self.protocol == "ec2" and not isinstance(where, ListOf)
        if items or content:  # ...and {tag, content} items
            return where
        shown = "a list (a `[]` is missing)" if isinstance(where, ListOf) else where.name
        self.problems.append(f"{text}: `{name}` applied to {shown}")
        return ANY

    def _member(self, shape: StructureShape, name: str, text: str) -> Any:
        wrappers = (f"{self.operation}Request", f"{self.operation}Response")
        if self.protocol == "ec2" and name in wrappers:
            return shape
        for member_name, member in shape.members.items():
            if name in wire_names(self.protocol, member_name, member):
                return member
        if self.protocol == "query" and shape is self.model.output_shape:
            inner = [m for m in shape.members.values() if isinstance(m, StructureShape)]
            if len(shape.members) == 1 and inner:  # the result wrapper, left out
                return self._member(inner[0], name, text)
        known = ", ".join(
            sorted(n for m, s in shape.members.items() for n in wire_names(self.protocol, m, s))
        )
        self.problems.append(
            f"{text}: no `{name}` in {self.api} {self.operation} {shape.name} ({known})"
        )
        return ANY
