"""The HTTP front: one loopback endpoint for CloudTrail, STS, Organizations, EC2, Price List
and admin."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl

import orjson
import structlog
from aiohttp import web

from emulator.api import admin
from emulator.api.auth import caller_of
from emulator.api.faults import Fault
from emulator.api.inventory import describe_regions, list_accounts
from emulator.api.pricing import TARGET as PRICING_TARGET
from emulator.api.protocol import (
    ApiError,
    Protocol,
    error_response,
    json_response,
    xml_response,
)
from emulator.api.state import STATE_KEY, EmulatorState, state_of
from emulator.api.sts import caller_identity_xml

log = structlog.get_logger(__name__)

CLOUDTRAIL_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
ORGANIZATIONS_PREFIX = "AWSOrganizationsV20161128."


class Abort(Exception):
    """The connection was closed on purpose (a fault): send nothing more."""


def _close(request: web.Request, partial: bytes = b"") -> Abort:
    """Close the connection, after writing `partial` bytes of an answer."""
    transport = request.transport
    if transport is not None:
        if partial:
            transport.write(partial)
        transport.abort()
    return Abort()


async def _apply(
    request: web.Request,
    emulator: EmulatorState,
    fault: Fault | None,
    where: str = "",
    action: str = "cloudtrail:LookupEvents",
) -> None:
    """Make a fault happen; returns only for faults that let the call go on (slow)."""
    if fault is None:
        return
    kind = fault.kind
    if kind == "slow":
        await asyncio.sleep((fault.argument or 5.0) / emulator.time_scale)
        return
    if kind == "hang":
        await emulator.wait_for_stop()
        raise _close(request)
    if kind == "down":
        raise _close(request)
    if kind == "drop":
        raise _close(
            request,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n"
            b'Content-Length: 4096\r\n\r\n{"Events":[{"EventId":',
        )
    errors = {
        "throttle": ApiError(400, "ThrottlingException", "Rate exceeded"),
        "500": ApiError(500, "InternalFailure", "The request processing has failed."),
        "503": ApiError(503, "ServiceUnavailable", "Service is unavailable, try again later."),
        "denied": ApiError(
            400,
            "AccessDeniedException",
            f"User is not authorized to perform: {action} in {where}",
        ),
        "expired": ApiError(
            400, "ExpiredTokenException", "The security token included in the request is expired"
        ),
    }
    raise errors[kind]


async def _lookup_events(
    request: web.Request, emulator: EmulatorState, account: str, region: str, body: Any
) -> web.Response:
    stats = emulator.stats
    stats.count(account, region, "calls")
    fault = emulator.faults.pick(account, region)
    if fault is not None:
        stats.count(account, region, "throttled" if fault.kind == "throttle" else "faulted")
        await _apply(request, emulator, fault, f"{account}/{region}")
    if not emulator.limiter.allow((account, region)):
        stats.count(account, region, "throttled")
        raise ApiError(400, "ThrottlingException", "Rate exceeded")
    delay = emulator.latency.draw(region, emulator.rng) / emulator.time_scale
    if delay > 0:
        await asyncio.sleep(delay)
    if not isinstance(body, dict):
        raise ApiError(400, "SerializationException", "Request body must be a JSON object")
    try:
        answer = emulator.lookup.answer(account, region, body, emulator.clock.now())
    except ApiError:
        stats.count(account, region, "rejected")
        raise
    stats.count(account, region, "served")
    stats.count(account, region, "events", answer.count(b'"EventId":'))
    return json_response(answer)


async def _json_call(request: web.Request, emulator: EmulatorState, target: str) -> web.Response:
    caller = caller_of(request.headers, request.query, Protocol.JSON)
    await _apply(request, emulator, emulator.faults.pick("*", caller.region, ("down",)))
    identity = emulator.sessions.identity(caller.access_key)
    raw = await request.read()
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise ApiError(400, "SerializationException", "Request body is not valid JSON") from None
    if target == CLOUDTRAIL_PREFIX + "LookupEvents":
        return await _lookup_events(request, emulator, identity.account, caller.region, body)
    if target == PRICING_TARGET:
        fault = emulator.faults.pick(identity.account, caller.region)
        await _apply(request, emulator, fault, caller.region, "pricing:GetProducts")
        if not isinstance(body, dict):
            raise ApiError(400, "SerializationException", "Request body must be a JSON object")
        return json_response(emulator.pricing.answer(body))
    if target == ORGANIZATIONS_PREFIX + "ListAccounts":
        if not isinstance(body, dict):
            raise ApiError(400, "SerializationException", "Request body must be a JSON object")
        answer = list_accounts(emulator.history.accounts(), emulator.default_account, body)
        return json_response(answer)
    operation = target.rsplit(".", 1)[-1]
    raise ApiError(400, "UnknownOperationException", f"Operation {operation} is not emulated")


async def _query_call(
    request: web.Request, emulator: EmulatorState, params: dict[str, str], protocol: Protocol
) -> web.Response:
    caller = caller_of(request.headers, request.query, protocol)
    await _apply(request, emulator, emulator.faults.pick("*", caller.region, ("down",)))
    action = params.get("Action", "")
    try:
        identity = emulator.sessions.identity(caller.access_key)
    except ApiError as error:
        raise ApiError(error.status, "ExpiredToken", error.message) from None
    if action == "GetCallerIdentity":
        return xml_response(caller_identity_xml(identity))
    if action == "AssumeRole":
        target = emulator.sessions.role_account(params)
        if target is not None and emulator.faults.pick(target, caller.region, ("denied",)):
            raise ApiError(
                403,
                "AccessDenied",
                f"User: {identity.arn} is not authorized to perform: sts:AssumeRole on "
                f"resource: {params.get('RoleArn')}",
            )
        return xml_response(emulator.sessions.assume_role(params))
    if action == "DescribeRegions":
        return xml_response(describe_regions(emulator.history.regions(), params))
    raise ApiError(400, "InvalidAction", f"Action {action!r} is not emulated")


async def handle(request: web.Request) -> web.StreamResponse:
    """Dispatch a signed AWS call by X-Amz-Target (JSON 1.1) or form `Action` (query)."""
    emulator = state_of(request)
    target = request.headers.get("X-Amz-Target")
    protocol = Protocol.JSON
    try:
        if target:
            return await _json_call(request, emulator, target)
        raw = await request.read()
        params = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        params.update(request.query)
        protocol = Protocol.EC2 if params.get("Action") == "DescribeRegions" else Protocol.QUERY
        return await _query_call(request, emulator, params, protocol)
    except ApiError as error:
        return error_response(error, protocol)
    except Abort:
        return web.Response(status=500)


def build_app(emulator: EmulatorState) -> web.Application:
    """The aiohttp application over an emulator."""
    app = web.Application(client_max_size=256 * 1024 * 1024)
    app[STATE_KEY] = emulator
    app.router.add_get("/_emulator/stats", admin.stats)
    app.router.add_post("/_emulator/records", admin.add_records)
    app.router.add_get("/_emulator/faults", admin.get_faults)
    app.router.add_post("/_emulator/faults", admin.set_faults)
    app.router.add_route("*", "/{tail:.*}", handle)
    return app
