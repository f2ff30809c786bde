"""Wire formats: AWS JSON 1.1 and query/XML responses, and the errors botocore understands."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import Enum
from typing import Any
from xml.sax.saxutils import escape

import orjson
from aiohttp import web

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"

STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/"
EC2_NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"


class Protocol(Enum):
    """How a service speaks: JSON 1.1 (CloudTrail, Organizations), query (STS), EC2 query."""

    JSON = "json"
    QUERY = "query"
    EC2 = "ec2"


class ApiError(Exception):
    """An error answer: HTTP status, AWS error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def request_id() -> str:
    """A fresh request id, as every AWS answer carries."""
    return str(uuid.uuid4())


def json_response(body: bytes | Mapping[str, Any], status: int = 200) -> web.Response:
    """A JSON 1.1 answer."""
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return web.Response(
        body=raw,
        status=status,
        content_type=JSON_CONTENT_TYPE,
        headers={"x-amzn-RequestId": request_id()},
    )


def xml_response(text: str, status: int = 200) -> web.Response:
    """A query-protocol (XML) answer."""
    return web.Response(
        text='<?xml version="1.0" encoding="UTF-8"?>\n' + text,
        status=status,
        content_type="text/xml",
        headers={"x-amzn-RequestId": request_id()},
    )


def error_response(error: ApiError, protocol: Protocol) -> web.Response:
    """The error in the shape botocore's parser for that protocol reads `Code` from."""
    if protocol is Protocol.JSON:
        body = {"__type": error.code, "message": error.message}
        response = json_response(body, status=error.status)
        response.headers["x-amzn-ErrorType"] = error.code
        return response
    code, message = escape(error.code), escape(error.message)
    if protocol is Protocol.EC2:
        return xml_response(
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
            f"</Error></Errors><RequestID>{request_id()}</RequestID></Response>",
            status=error.status,
        )
    kind = "Receiver" if error.status >= 500 else "Sender"
    return xml_response(
        f'<ErrorResponse xmlns="{STS_NAMESPACE}"><Error><Type>{kind}</Type>'
        f"<Code>{code}</Code><Message>{message}</Message></Error>"
        f"<RequestId>{request_id()}</RequestId></ErrorResponse>",
        status=error.status,
    )


def xml_element(name: str, value: object) -> str:
    """One escaped XML element."""
    return f"<{name}>{escape(str(value))}</{name}>"
