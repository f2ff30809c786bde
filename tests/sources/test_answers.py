"""The fast LookupEvents parser: the same pages as botocore's, botocore's for everything else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aioboto3
import botocore.session
import pytest
from aiobotocore.parsers import AioJSONParser, AioResponseParserFactory
from botocore.model import StructureShape
from botocore.parsers import create_parser

from emulator.api.events import serve_event
from scanner.records import record_from_body
from scanner.sources.answers import (
    LookupEventsParser,
    LookupParserFactory,
    parse_answer,
    use_fast_lookup_parser,
)
from scanner.sources.lookup import parse_page

MODEL = botocore.session.get_session().get_service_model("cloudtrail")


def output_of(operation: str) -> StructureShape:
    """The output shape of one CloudTrail operation (every one used here has one)."""
    shape = MODEL.operation_model(operation).output_shape
    assert shape is not None
    return shape


LOOKUP_OUTPUT = output_of("LookupEvents")
T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)


def body_of(index: int, name: str) -> dict[str, Any]:
    when = T0 - timedelta(minutes=index, milliseconds=250 * (index % 3))
    return {
        "eventVersion": "1.08",
        "eventID": f"00000000-0000-0000-0000-{index:012d}",
        "eventName": name,
        "eventSource": "ec2.amazonaws.com",
        "eventTime": when.isoformat().replace("+00:00", "Z"),
        "awsRegion": "eu-west-1",
        "recipientAccountId": "111111111111",
        "userIdentity": {"type": "IAMUser", "userName": "ana", "accessKeyId": "AKIAX"},
        "responseElements": {"instancesSet": {"items": [{"instanceId": f"i-{index:08x}"}]}},
    }


def page_bytes(names: list[str], token: str | None) -> bytes:
    items = []
    for index, name in enumerate(names):
        record = record_from_body(body_of(index, name))
        assert record is not None
        items.append(serve_event(record).item)
    answer = b'{"Events":[' + b",".join(items) + b"]"
    if token:
        answer += b',"NextToken":"' + token.encode() + b'"'
    return answer + b"}"


def botocore_answer(body: bytes) -> Any:
    response = {"body": body, "headers": {}, "status_code": 200}
    return create_parser("json").parse(response, LOOKUP_OUTPUT)


def watches(source: str, name: str) -> bool:
    return name != "DescribeInstances"


@pytest.mark.parametrize("token", [None, "next-1"])
async def test_the_same_source_page_as_botocores_parser(token: str | None) -> None:
    body = page_bytes(["RunInstances", "DescribeInstances", "TerminateInstances"] * 5, token)
    fast = parse_page(await parse_answer(body, LOOKUP_OUTPUT), watches)
    slow = parse_page(botocore_answer(body), watches)
    assert fast == slow
    assert [r.body for r in fast.records] == [r.body for r in slow.records]
    assert fast.events_read == 15
    assert len(fast.records) == 10
    assert fast.oldest is not None
    assert fast.oldest.microsecond == 500_000
    assert fast.next_token == token


async def test_event_time_is_left_as_sent() -> None:
    answer = await parse_answer(page_bytes(["RunInstances"], None), LOOKUP_OUTPUT)
    assert isinstance(answer["Events"][0]["EventTime"], int | float)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200


async def test_errors_and_other_operations_parse_as_botocore_does() -> None:
    fast = LookupParserFactory().create_parser("json")
    stock = AioResponseParserFactory().create_parser("json")
    assert isinstance(fast, LookupEventsParser)
    error = {
        "body": b'{"__type":"InvalidNextTokenException","message":"bad token"}',
        "headers": {"x-amzn-requestid": "r1"},
        "status_code": 400,
    }
    assert await fast.parse(error, LOOKUP_OUTPUT) == await stock.parse(error, LOOKUP_OUTPUT)
    other = output_of("DescribeTrails")
    trails = {
        "body": b'{"trailList":[{"Name":"t","HomeRegion":"eu-west-1"}]}',
        "headers": {},
        "status_code": 200,
    }
    assert await fast.parse(trails, other) == await stock.parse(trails, other)


async def test_a_body_orjson_refuses_goes_to_botocore() -> None:
    response = {"body": b"<html>oops</html>", "headers": {}, "status_code": 200}
    stock = AioJSONParser()
    assert await LookupEventsParser().parse(response, LOOKUP_OUTPUT) == await stock.parse(
        response, LOOKUP_OUTPUT
    )


def test_other_protocols_keep_their_parsers() -> None:
    assert type(LookupParserFactory().create_parser("query")) is type(
        AioResponseParserFactory().create_parser("query")
    )


def test_a_session_is_switched_once() -> None:
    session = aioboto3.Session()
    use_fast_lookup_parser(session)
    factory = session._session.get_component("response_parser_factory")
    use_fast_lookup_parser(session)
    assert isinstance(factory, LookupParserFactory)
    assert session._session.get_component("response_parser_factory") is factory
