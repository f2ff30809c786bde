"""The common frame of every generated record, and the ids and times it needs, made fast."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from emulator.history.actors import Actor

_UUID_KEEP = ~((0xF << 76) | (0x3 << 62))  # clear the version nibble and variant bits
_UUID_SET = (0x4 << 76) | (0x2 << 62)  # version 4, RFC 4122 variant
_SECONDS = tuple(f"{second:02d}Z" for second in range(60))
EVENT_VERSION = "1.09"


def java_time(ts: int) -> str:
    """A time as Java's default formatter writes it in RDS/ELB/EFS responses."""
    moment = datetime.fromtimestamp(ts, UTC)
    hour = moment.hour % 12 or 12
    half = "AM" if moment.hour < 12 else "PM"
    return f"{moment:%b} {moment.day}, {moment.year} {hour}:{moment:%M:%S} {half}"


@dataclass(frozen=True, slots=True)
class Network:
    """The VPC that resources of one (account, region) live in."""

    vpc: str
    subnets: tuple[tuple[str, str], ...]  # (subnet id, availability zone)
    security_group: tuple[str, str]  # (id, name)
    amis: tuple[str, ...]


class Call(NamedTuple):
    """One call being recorded: by whom, when, and in which (account, region) and VPC."""

    rec: Recorder
    ts: int
    actor: Actor
    net: Network


class Recorder:
    """Builds records for one (account, region): seeded ids, times, and the record envelope.

    Write records are kept (with their time and order of creation) until `sorted_writes`.
    """

    def __init__(self, rng: random.Random, account: str, region: str, start: int, end: int):
        self.rng = rng
        self.account = account
        self.region = region
        self.start = start  # epoch seconds, inclusive
        self.end = end
        self._bits = rng.getrandbits
        self._seen: set[str] = set()
        self._minutes: dict[int, str] = {}
        self.writes: list[tuple[int, int, dict[str, Any]]] = []

    # ids -----------------------------------------------------------------------------------
    def uuid(self) -> str:
        """A random (version 4) UUID drawn from the seeded generator."""
        h = "%032x" % (self._bits(128) & _UUID_KEEP | _UUID_SET)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def hex_id(self, prefix: str, digits: int = 17) -> str:
        """A new, never repeated id such as `i-0abc...` (`prefix` + `digits` hex digits)."""
        while True:
            value = f"{prefix}{self._bits(digits * 4):0{digits}x}"
            if value not in self._seen:
                self._seen.add(value)
                return value

    def upper_id(self, prefix: str, length: int, alphabet: str) -> str:
        """A new, never repeated id of upper-case characters (Route 53 zones, RDS resources)."""
        while True:
            value = prefix + "".join(self.rng.choices(alphabet, k=length))
            if value not in self._seen:
                self._seen.add(value)
                return value

    def unique(self, value: str) -> bool:
        """Claim a name; False when it was already used in this (account, region)."""
        if value in self._seen:
            return False
        self._seen.add(value)
        return True

    # times ---------------------------------------------------------------------------------
    def time_text(self, ts: int) -> str:
        """`eventTime` text for epoch seconds `ts` (`YYYY-MM-DDTHH:MM:SSZ`)."""
        minute, second = divmod(ts, 60)
        prefix = self._minutes.get(minute)
        if prefix is None:
            if len(self._minutes) > 200_000:
                self._minutes.clear()
            moment = datetime.fromtimestamp(minute * 60, UTC)
            prefix = self._minutes[minute] = moment.strftime("%Y-%m-%dT%H:%M:")
        return prefix + _SECONDS[second]

    def clamp(self, ts: int) -> int:
        """`ts` kept within the history's window."""
        return self.start if ts < self.start else self.end if ts > self.end else ts

    # records -------------------------------------------------------------------------------
    def record(
        self,
        call: Call,
        source: str,
        name: str,
        request: Any,
        response: Any,
        *,
        read_only: bool = False,
        error: tuple[str, str] | None = None,
        resources: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
        region: str | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """One CloudTrail record in the field order CloudTrail writes."""
        ts, actor = call.ts, call.actor
        region = region or self.region
        agent, tls = actor.client_fields(source, name, region)
        if request_id is None:
            request_id = self.uuid()
        record: dict[str, Any] = {
            "eventVersion": EVENT_VERSION,
            "userIdentity": actor.identity(ts // 86400),
            "eventTime": self.time_text(ts),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": actor.source_ip,
            "userAgent": agent,
        }
        if error is not None:
            record["errorCode"], record["errorMessage"] = error
        record["requestParameters"] = request
        record["responseElements"] = response
        if extra:
            record.update(extra)
        record["requestID"] = request_id
        record["eventID"] = self.uuid()
        record["readOnly"] = read_only
        if resources is not None:
            record["resources"] = resources
        record["eventType"] = "AwsApiCall"
        record["managementEvent"] = True
        record["recipientAccountId"] = self.account
        record["eventCategory"] = "Management"
        if tls is not None:
            record["tlsDetails"] = tls
        if actor.client == "console" and not actor.is_service:
            record["sessionCredentialFromConsole"] = "true"
        return record

    def emit(self, ts: int, record: dict[str, Any]) -> dict[str, Any]:
        """Keep a write record for the history; return it."""
        self.writes.append((ts, len(self.writes), record))
        return record

    def sorted_writes(self) -> list[tuple[int, int, dict[str, Any]]]:
        """The kept records in time order (ties in order of creation)."""
        self.writes.sort(key=lambda item: (item[0], item[1]))
        return self.writes
