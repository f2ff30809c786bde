"""CloudTrail LookupEvents: validation, the 90-day horizon, paging with bound NextTokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from emulator.api.events import ATTRIBUTE_KEYS
from emulator.api.index import History, Query
from emulator.api.protocol import ApiError
from emulator.api.tokens import InvalidTokenError, TokenCodec
from scanner.records import parse_time

DEFAULT_MAX_RESULTS = 50
HORIZON_DAYS = 90.0


@dataclass(frozen=True, slots=True)
class Lookup:
    """A validated LookupEvents request."""

    query: Query
    max_results: int
    next_token: str | None
    insight: bool


def _invalid(code: str, message: str) -> ApiError:
    return ApiError(400, code, message)


def _time(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _invalid("ValidationException", f"{name} is not a timestamp")
    if isinstance(value, int | float):
        return float(value)
    parsed = parse_time(value)
    if parsed is None:
        try:
            return float(str(value))
        except ValueError:
            raise _invalid("SerializationException", f"{name} is not a timestamp") from None
    return parsed.timestamp()


def _attribute(value: object) -> tuple[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _invalid("InvalidLookupAttributesException", "LookupAttributes must be a list")
    if not value:
        return None
    if len(value) > 1:
        raise _invalid(
            "InvalidLookupAttributesException",
            "You cannot specify more than one lookup attribute.",
        )
    item = value[0]
    key = item.get("AttributeKey") if isinstance(item, dict) else None
    text = item.get("AttributeValue") if isinstance(item, dict) else None
    if key not in ATTRIBUTE_KEYS:
        raise _invalid(
            "InvalidLookupAttributesException",
            f"AttributeKey {key!r} is not one of {', '.join(ATTRIBUTE_KEYS)}.",
        )
    if not isinstance(text, str) or not text or len(text) > 2000:
        raise _invalid(
            "InvalidLookupAttributesException",
            f"AttributeValue for {key} must be a string of 1 to 2000 characters.",
        )
    return str(key), text


def parse_lookup(body: dict[str, Any]) -> Lookup:
    """Validate a LookupEvents request body as the service does."""
    attribute = _attribute(body.get("LookupAttributes"))
    start = _time(body.get("StartTime"), "StartTime")
    end = _time(body.get("EndTime"), "EndTime")
    if start is not None and end is not None and start > end:
        raise _invalid("InvalidTimeRangeException", "Start time must be less than end time.")
    max_results = body.get("MaxResults", DEFAULT_MAX_RESULTS)
    if (
        isinstance(max_results, bool)
        or not isinstance(max_results, int)
        or not 1 <= max_results <= 50
    ):
        raise _invalid(
            "InvalidMaxResultsException", "MaxResults must be an integer between 1 and 50."
        )
    category = body.get("EventCategory")
    if category not in (None, "insight"):
        raise _invalid("InvalidEventCategoryException", f"EventCategory {category!r} is invalid.")
    token = body.get("NextToken")
    if token is not None and (not isinstance(token, str) or not token):
        raise _invalid("InvalidNextTokenException", "Invalid NextToken.")
    return Lookup(Query(attribute, start, end), max_results, token, category == "insight")


class LookupEvents:
    """Answers LookupEvents for an (account, region) from the history."""

    def __init__(
        self, history: History, codec: TokenCodec, horizon_days: float | None = HORIZON_DAYS
    ) -> None:
        self.history = history
        self.codec = codec
        self.horizon_days = horizon_days

    def answer(self, account: str, region: str, body: dict[str, Any], now: float) -> bytes:
        """The response body (JSON bytes); ApiError for a request the service would refuse."""
        lookup = parse_lookup(body)
        query = lookup.query
        binding = orjson.dumps(
            [account, region, query.attribute, query.start, query.end, lookup.insight]
        )
        after = None
        if lookup.next_token is not None:
            try:
                after = self.codec.open(lookup.next_token, binding)
            except InvalidTokenError:
                raise _invalid("InvalidNextTokenException", "Invalid NextToken.") from None
        if lookup.insight:
            return b'{"Events":[]}'
        if self.horizon_days is not None:
            oldest = now - self.horizon_days * 86400.0
            start = oldest if query.start is None else max(query.start, oldest)
            query = Query(query.attribute, start, query.end)
            if query.end is not None and query.end < start:
                return b'{"Events":[]}'
        page = self.history.page(account, region, query, after, lookup.max_results)
        out = b'{"Events":[' + b",".join(page.items) + b"]"
        if page.cursor is not None:
            out += b',"NextToken":' + orjson.dumps(self.codec.issue(binding, page.cursor))
        return out + b"}"
