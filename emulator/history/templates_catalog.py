"""Records of every catalog type beyond the hand-written twelve, built from templates_catalog.yaml.

Each type there is one compact description: its event source, the form of a new id, its state
after creation, and the requestParameters/responseElements of its create, delete, state and rename
calls with placeholders. `Kind.record` fills them in for one resource; a failed call keeps the
request, gains an errorCode and loses its responseElements, as CloudTrail writes it.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote

import yaml

from emulator.history.envelope import Call, Recorder

_PLACEHOLDER = re.compile(r"\{(\w+)(?::(\d+))?\}")
_ALPHABETS = {
    "hex": "0123456789abcdef",
    "digits": string.digits,
    "upper": string.ascii_uppercase + string.digits,
    "lower": string.ascii_lowercase + string.digits,
    "alnum": string.ascii_letters + string.digits,
}
Error = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Part:
    """One call of a type: its event name, parameters and response with placeholders."""

    event: str
    request: Any
    response: Any
    sets: str | None = None  # the state a state-change call leaves


@dataclass(frozen=True, slots=True)
class Kind:
    """The description of one catalog type, as templates_catalog.yaml writes it."""

    name: str
    source: str
    id_form: str
    state: str
    create: Part
    delete: Part
    states: tuple[Part, ...] = ()
    rename: Part | None = None
    is_global: bool = False
    #: `<parent type>/<form of its id>` when a service makes this type for a parent.
    via: str | None = None

    @property
    def names_are_ids(self) -> bool:
        """True when the id follows from the name the caller chose (nothing drawn at random),
        so that a name can be created again."""
        return all(
            match.group(1) in ("name", "account", "region")
            for match in _PLACEHOLDER.finditer(self.id_form)
        )

    def new_id(self, rec: Recorder, name: str) -> str:
        """A new id in this type's form, for a resource named `name`."""
        while True:
            candidate = _draw(rec, self.id_form, name)
            if self.names_are_ids or rec.unique(f"{self.name}/{candidate}"):
                return candidate

    def new_parent(self, rec: Recorder, name: str) -> str:
        """`<parent type>/<id>` of a new parent, or "" for a type made by hand."""
        return "" if self.via is None else _draw(rec, self.via, name)

    def arn(self, call: Call, rid: str) -> str:
        """The resource's ARN (its id is the ARN's last part, or the ARN itself)."""
        if rid.startswith("arn:"):
            return rid
        service = self.source.split(".", 1)[0]
        resource = self.name.split(".", 1)[1].replace("_", "-")
        return f"arn:aws:{service}:{call.rec.region}:{call.rec.account}:{resource}/{rid}"

    def record(
        self,
        call: Call,
        part: Part,
        rid: str,
        name: str,
        *,
        new: str = "",
        parent: str = "",
        error: Error | None = None,
    ) -> dict[str, Any]:
        """One record of `part` for the resource `rid` named `name` (made for `parent`)."""
        rec, net = call.rec, call.net
        values = {
            "id": rid,
            "name": name,
            "arn": self.arn(call, rid),
            "arn_encoded": quote(self.arn(call, rid), safe=""),
            "new": new,
            "parent": parent.partition("/")[2],
            "account": rec.account,
            "region": rec.region,
            "vpc": net.vpc,
            "subnet": net.subnets[0][0],
            "security_group": net.security_group[0],
            "time": rec.time_text(call.ts),
            "uuid": rec.uuid(),
        }
        parts = rid.split("/") if "/" in rid else rid.split(":")
        values.update((f"id{index}", piece) for index, piece in enumerate(parts))
        request = _fill(part.request, values)
        response = None if error is not None else _fill(part.response, values)
        region = "us-east-1" if self.is_global else None
        return rec.record(
            call, self.source, part.event, request, response, error=error, region=region
        )


def _draw(rec: Recorder, form: str, name: str) -> str:
    """`form` with its placeholders drawn: {name}, {account}, {region}, {uuid}, {hex:N}..."""
    values = {"name": name, "account": rec.account, "region": rec.region}

    def draw(match: re.Match[str]) -> str:
        piece, size = match.group(1), match.group(2)
        if piece == "uuid":
            return rec.uuid()
        if size is not None:
            return "".join(rec.rng.choices(_ALPHABETS[piece], k=int(size)))
        return values[piece]

    return _PLACEHOLDER.sub(draw, form)


def _fill(value: Any, values: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        if "{" not in value:
            return value
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    return value


def _part(data: Mapping[str, Any]) -> Part:
    return Part(data["event"], data.get("request"), data.get("response"), data.get("sets"))


@cache
def kinds() -> Mapping[str, Kind]:
    """Every described type, by catalog name."""
    text = resources.files("emulator.history").joinpath("templates_catalog.yaml").read_text()
    data: dict[str, dict[str, Any]] = yaml.safe_load(text)
    return {
        name: Kind(
            name=name,
            source=entry["source"],
            id_form=entry["id"],
            state=entry["state"],
            create=_part(entry["create"]),
            delete=_part(entry["delete"]),
            states=tuple(_part(item) for item in entry.get("states", ())),
            rename=_part(entry["rename"]) if "rename" in entry else None,
            is_global=bool(entry.get("global", False)),
            via=entry.get("via"),
        )
        for name, entry in data.items()
    }
