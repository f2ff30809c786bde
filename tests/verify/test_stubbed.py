"""Every verified type moto cannot serve: botocore's Stubber checks the request each check
sends against the operation's input shape, and how answers and error codes become verdicts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aioboto3
import pytest
from aiobotocore.stub import AioStubber
from botocore import xform_name
from botocore.model import ListShape

from scanner.catalog import load_catalog
from scanner.catalog.verification import Verification
from scanner.lifecycle import ResourceKey
from scanner.verify.calls import Checker, Subject
from tests.verify.answers import placeholder, put
from tests.verify.makers import MAKERS
from tests.verify.shapes import service_model

CATALOG = load_catalog()
NOW = datetime(2026, 11, 1, tzinfo=UTC)
STUBBED = sorted(
    name for name, t in CATALOG.types.items() if t.verify is not None and name not in MAKERS
)
ID = "res-0123456789"
ARN = "arn:aws:svc:us-east-1:111111111111:thing/res-0123456789"


def _verification(name: str) -> Verification:
    found = CATALOG.types[name].verify
    assert found is not None
    return found


def _id_for(check: Verification) -> str:
    """An id as long as the parameter that carries it allows (between its min and max)."""
    shape_in = service_model(check.api).operation_model(check.call).input_shape
    assert shape_in is not None
    members = shape_in.members
    carrier = check.ids or next(
        (param for param, template in check.params if "{id}" in str(template)), None
    )
    shape = members[carrier] if carrier else None
    if isinstance(shape, ListShape):
        shape = shape.member
    least = int(shape.metadata.get("min", 0)) if shape is not None else 0
    most = int(shape.metadata.get("max", 64)) if shape is not None else 64
    return (ID + "0" * 64)[: min(max(least, len(ID)), most)]


def _subject(name: str) -> Subject:
    check = _verification(name)
    resource_id = f"{ID}/part-1" if "{part[1]}" in str(check.params) else _id_for(check)
    return Subject(ResourceKey("111111111111", "us-east-1", name, resource_id), ARN, "thing")


#: One session for the module: its loader reads each service model once.
SESSION = aioboto3.Session(
    aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
)


@pytest.fixture
def session() -> aioboto3.Session:
    return SESSION


def _expected(check: Verification, subject: Subject) -> dict[str, object]:
    if check.ids is not None:
        return check.batch_request([subject.key.resource_id])
    return check.request(subject.fields())


def _answer(client: Any, check: Verification, subject: Subject, state: str | None) -> Any:
    shape = client.meta.service_model.operation_model(check.call).output_shape
    answer = placeholder(shape)
    items_text, id_text, state_text, _ = check.texts
    item, item_shape = put(answer, shape, items_text)
    if id_text:
        put(item, item_shape, id_text, subject.key.resource_id)
    if state_text and state:
        put(item, item_shape, state_text, state)
    return answer


async def _run(session: aioboto3.Session, name: str, stub: Any) -> Any:
    check = _verification(name)
    subject = _subject(name)
    async with session.client(check.api, region_name="us-east-1") as client:
        with AioStubber(client) as stubber:
            stub(stubber, client, check, subject)
            checker = Checker(client, NOW)
            if check.ids is not None:
                verdict = (await checker.many(check, [subject]))[subject.key]
            else:
                verdict = await checker.one(check, subject)
            stubber.assert_no_pending_responses()
    return verdict


@pytest.mark.parametrize("name", STUBBED)
async def test_a_found_resource_is_present_with_its_state(
    session: aioboto3.Session, name: str
) -> None:
    def stub(stubber: AioStubber, client: Any, check: Verification, subject: Subject) -> None:
        answer = _answer(client, check, subject, "available")
        stubber.add_response(xform_name(check.call), answer, _expected(check, subject))

    verdict = await _run(session, name, stub)

    assert verdict.outcome == "present"
    assert verdict.state == ("available" if _verification(name).texts[2] else None)


@pytest.mark.parametrize("name", [n for n in STUBBED if _verification(n).gone])
async def test_each_gone_code_means_gone(session: aioboto3.Session, name: str) -> None:
    for code in sorted(_verification(name).gone):

        def stub(
            stubber: AioStubber, _: Any, check: Verification, subject: Subject, code: str = code
        ) -> None:
            method, expected = xform_name(check.call), _expected(check, subject)
            stubber.add_client_error(method, code, "not found", 404, expected_params=expected)

        verdict = await _run(session, name, stub)
        assert (verdict.outcome, verdict.reason) == ("gone", f"{_verification(name).call}: {code}")


@pytest.mark.parametrize("name", [n for n in STUBBED if _verification(n).gone_states])
async def test_a_gone_state_means_gone(session: aioboto3.Session, name: str) -> None:
    gone_state = sorted(_verification(name).gone_states)[0]

    def stub(stubber: AioStubber, client: Any, check: Verification, subject: Subject) -> None:
        answer = _answer(client, check, subject, gone_state)
        stubber.add_response(xform_name(check.call), answer, _expected(check, subject))

    verdict = await _run(session, name, stub)

    assert verdict.outcome == "gone"
    assert verdict.state == gone_state


@pytest.mark.parametrize("name", STUBBED)
@pytest.mark.parametrize(
    ("code", "reason"),
    [("AccessDeniedException", "access denied"), ("ThrottlingException", "throttled")],
)
async def test_denied_or_throttled_is_unknown(
    session: aioboto3.Session, name: str, code: str, reason: str
) -> None:
    def stub(stubber: AioStubber, client: Any, check: Verification, subject: Subject) -> None:
        method, expected = xform_name(check.call), _expected(check, subject)
        stubber.add_client_error(method, code, "no", 400, expected_params=expected)

    verdict = await _run(session, name, stub)

    assert (verdict.outcome, verdict.reason) == ("unknown", reason)
