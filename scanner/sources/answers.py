"""LookupEvents answers parsed straight from their JSON: a response parser for aiobotocore sessions.

botocore's JSON parser walks every member of every event against the model and parses each
`EventTime` (through dateutil): about 20 µs an event, more than the rest of the engine together.
A LookupEvents answer needs none of it: `parse_page` reads `EventId`, `EventTime` (raw epoch
seconds here), `EventSource`, `EventName`, `CloudTrailEvent` and `NextToken`, and takes a record's
time from its `CloudTrailEvent`. So a successful LookupEvents answer is one `orjson.loads`; errors,
every other operation, and a body orjson refuses go through botocore's parser unchanged, so
exceptions and retries stay exactly as before.
"""

from __future__ import annotations

from typing import Any

import aioboto3
import orjson
from aiobotocore.parsers import AioJSONParser, AioResponseParserFactory

#: The output shape of cloudtrail:LookupEvents (the only `json` protocol shape of that name).
LOOKUP_EVENTS_OUTPUT = "LookupEventsResponse"


class LookupEventsParser(AioJSONParser):
    """botocore's JSON protocol parser, with a successful LookupEvents answer loaded as is."""

    async def _do_parse(self, response: dict[str, Any], shape: Any) -> Any:
        if shape is not None and shape.name == LOOKUP_EVENTS_OUTPUT:
            body = response["body"]
            try:
                parsed = orjson.loads(body) if body else {}
            except orjson.JSONDecodeError:
                parsed = None
            if isinstance(parsed, dict):
                request_id = response["headers"].get("x-amzn-requestid")
                if request_id is not None:  # as botocore's JSON parser injects it
                    parsed.setdefault("ResponseMetadata", {})["RequestId"] = request_id
                return parsed
        # The stubs leave out botocore's private parser methods.
        return await super()._do_parse(response, shape)  # type: ignore[misc]


class LookupParserFactory(AioResponseParserFactory):
    """aiobotocore's parser factory, with `LookupEventsParser` for the `json` protocol."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            # `_defaults` (set_parser_defaults) is private to botocore, left out of the stubs.
            return LookupEventsParser(**self._defaults)  # type: ignore[attr-defined]
        return super().create_parser(protocol_name)


def use_fast_lookup_parser(session: aioboto3.Session) -> None:
    """Have the clients `session` creates from now on parse LookupEvents answers fast."""
    # aioboto3 gives no public way to the botocore session it wraps; register_component is
    # botocore's documented way to swap the response parser factory.
    core = session._session
    if not isinstance(core.get_component("response_parser_factory"), LookupParserFactory):
        core.register_component("response_parser_factory", LookupParserFactory())


async def parse_answer(body: bytes, shape: Any) -> Any:
    """A 200 LookupEvents body through the scanner's parser, as a client would parse it."""
    parser = LookupParserFactory().create_parser("json")
    return await parser.parse(
        {"body": body, "headers": {}, "status_code": 200, "context": {}}, shape
    )
