"""The fault matrix: each fault the emulator injects, against the service and its HTTP app, over a
generated history whose ground truth is known. The first scan reads the history up to now; then
the rest of it arrives (resources created and deleted), a fault strikes, and the next scan must
publish no false leftover, publish the healthy regions in full, and count what happened. Once
the fault is lifted, the scan after it publishes the truth exactly."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from emulator import GeneratorSpec, Running, generate
from emulator.api.clock import ManualClock
from emulator.history.generator import account_ids, ground_truth
from emulator.history.scenarios import RESOURCE_TYPES
from scanner.catalog import load_catalog
from scanner.metrics import build_registry
from scanner.records import parse_time
from scanner.service import Service
from scanner.store import Store
from scanner.web import Context, create_app
from tests.conftest import EMULATOR_NOW

from .test_counting import fill_up, free_up
from .test_serve_e2e import comparable, truth_rows
from .test_service import aws_env, clock_of
from .world import settings_of

__all__ = ["aws_env"]

FAULTED = "eu-west-1"
REGIONS = ("us-east-1", "ap-south-1", FAULTED)
#: What happens between the first scan and the one the fault strikes.
GAP = timedelta(days=3)
END = EMULATOR_NOW + GAP
SPEC = GeneratorSpec(accounts=1, regions=REGIONS, seed=3, days=10, resources=40, noise=1.0, now=END)
(ACCOUNT,) = account_ids(SPEC)
TRUTH = ground_truth(SPEC)
#: Small timeouts: a hung call is abandoned after a second, a hung region at its deadline (before
#: its calls have all been tried).
DEADLINE_SECONDS = 3.0
RETRY = {
    "retry.attempts": 4,
    "retry.call_timeout_seconds": 1.0,
    "retry.base_delay_seconds": 0.01,
    "retry.max_delay_seconds": 0.05,
}

Key = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class Case:
    """One fault: the emulator's rules for it (None: the state file is full instead), the regions
    it strikes, and the labels that must move for them."""

    faults: str | None
    reason: str  # of leftovers_scan_errors_total
    outcome: str | None = "error"  # of leftovers_lookup_requests_total (None: no call is made)
    struck: tuple[str, ...] = (FAULTED,)
    #: The emulator counts the calls it fails ("down" closes the connection before counting).
    counted: bool = True

    @property
    def healthy(self) -> tuple[str, ...]:
        return tuple(region for region in REGIONS if region not in self.struck)

    @property
    def scan_outcome(self) -> str:
        if self.healthy:
            return "partial"
        return "crashed" if self.faults is None else "failed"


CASES = {
    "throttle storm": Case(f"throttle/{FAULTED}", "throttled", "throttled"),
    "5xx": Case(f"5xx/{FAULTED}", "unavailable"),
    "drop": Case(f"drop/{FAULTED}", "unavailable"),
    "hang": Case(f"hang/{FAULTED}", "timeout", counted=False),
    "denied": Case(f"denied/{FAULTED}", "access_denied"),
    "expired": Case(f"expired/{FAULTED}", "access_denied"),
    "down": Case(f"down@*/{FAULTED}", "unavailable", counted=False),
    # STS is down too: the scan cannot list its accounts, and makes no LookupEvents call.
    "every region down": Case("down", "unavailable", None, REGIONS, counted=False),
    "disk full": Case(None, "store", None, REGIONS, counted=False),
}


@pytest.fixture(scope="module")
def history() -> list[dict[str, Any]]:
    """The generated history, once for every case."""
    return list(generate(SPEC))


def split(history: list[dict[str, Any]], *, early: bool) -> list[dict[str, Any]]:
    """The records up to EMULATOR_NOW (`early`), or those after it."""
    return [r for r in history if (_time(r) <= EMULATOR_NOW) is early]


def _time(record: dict[str, Any]) -> datetime:
    when = parse_time(record["eventTime"])
    assert when is not None
    return when


@pytest.fixture
def emulator_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What has happened by the first scan."""
    return split(history, early=True)


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {"account": ACCOUNT}


@dataclass(frozen=True, slots=True)
class Served:
    """The service, its HTTP app as `leftovers serve` builds it, and the emulator's admin API."""

    service: Service
    client: TestClient[Any, Any]
    admin: aiohttp.ClientSession

    async def results(self) -> dict[str, Any]:
        answer = await self.client.get("/results?limit=5000")
        assert answer.status == 200
        body: dict[str, Any] = await answer.json()
        assert body["next_cursor"] is None
        return body

    async def metrics(self) -> list[Sample]:
        text = await (await self.client.get("/metrics")).text()
        return [s for family in text_string_to_metric_families(text) for s in family.samples]

    async def readyz(self) -> tuple[int, dict[str, Any]]:
        answer = await self.client.get("/readyz")
        return answer.status, await answer.json()

    async def admin_post(self, path: str, body: object) -> None:
        async with self.admin.post(f"/_emulator/{path}", json=body) as answer:
            assert answer.status == 200, await answer.text()


@contextlib.asynccontextmanager
async def serving(emulator: Running, clock: ManualClock, state: Path) -> AsyncIterator[Served]:
    settings = settings_of(
        emulator.endpoint_url, state, REGIONS, deadline_seconds=DEADLINE_SECONDS, **RETRY
    )
    catalog = load_catalog()
    store = await Store.open(state)
    try:
        service = Service(settings, store, catalog, clock=clock_of(clock))
        context = Context(
            current=service.snapshot,
            store=store,
            registry=build_registry(service.snapshot),
            clock=service.clock,
            interval_seconds=settings.service.interval_seconds,
            resource_types=tuple(catalog.types),
            readiness=service.readiness,
        )
        async with (
            TestClient(TestServer(create_app(context))) as client,
            aiohttp.ClientSession(emulator.endpoint_url) as admin,
        ):
            yield Served(service, client, admin)
    finally:
        free_up(store)
        await store.close()


def keys(items: list[dict[str, Any]]) -> set[Key]:
    """The leftovers of the types the generator models (its ground truth knows only those)."""
    return {
        (i["account_id"], i["region"], i["resource_type"], i["resource_id"])
        for i in items
        if i["resource_type"] in RESOURCE_TYPES
    }


def per_region(samples: list[Sample], name: str, label: str = "") -> dict[str, dict[str, float]]:
    """A metric's values by region and `label` ({region: {label: value}}), zeros left out."""
    found: dict[str, dict[str, float]] = {}
    for sample in samples:
        if sample.name == name and sample.value:
            assert sample.labels["account_id"] == ACCOUNT
            found.setdefault(sample.labels["region"], {})[sample.labels.get(label, "")] = (
                sample.value
            )
    return found


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_fault(  # noqa: PLR0917 (fixtures)
    case: Case,
    emulator: Running,
    manual_clock: ManualClock,
    aws_env: None,
    tmp_path: Path,
    history: list[dict[str, Any]],
) -> None:
    truth = TRUTH.keys()
    async with serving(emulator, manual_clock, tmp_path / "state.db") as served:
        service = served.service
        assert (await service.scan_once()).outcome == "ok"
        # What the first scan found and the history deletes later, in every region struck.
        deleted = keys((await served.results())["leftovers"]) - truth
        assert {region for _, region, _, _ in deleted} >= set(case.struck)

        # The rest of the history arrives, the fault strikes, the clock moves to the end.
        await served.admin_post("records", split(history, early=False))
        if case.faults is None:
            fill_up(service.store)
        else:
            await served.admin_post("faults", {"faults": case.faults})
        manual_clock.advance(GAP.total_seconds())
        assert (await service.scan_once()).outcome == case.scan_outcome
        body = await served.results()
        metrics = await served.metrics()

        # (a) No false leftover: nothing deleted is left over; the would-be leftovers of the
        # regions struck are listed apart (a gap after a failed scan), or not at all.
        assert keys(body["leftovers"]) & deleted == set()
        assert keys(body["leftovers"]) <= truth
        assert {i["region"] for i in body["incomplete"]} <= set(case.struck)
        unread = {(r["account_id"], r["region"]) for r in body["incomplete_regions"]}
        assert unread == {(ACCOUNT, region) for region in case.struck}
        assert per_region(metrics, "leftovers_incomplete_regions") == {
            region: {"": 1.0} for region in case.struck
        }

        # (b) The healthy regions are published, in full, by the scan the fault struck (within
        # its deadline); the regions struck keep their last success.
        healthy_truth = [row for row in truth_rows(TRUTH) if row[1] in case.healthy]
        assert comparable(body["leftovers"]) == healthy_truth
        last_success = per_region(metrics, "leftovers_last_success_timestamp_seconds")
        assert last_success == {
            region: {"": (EMULATOR_NOW if region in case.struck else END).timestamp()}
            for region in REGIONS
        }

        # (c) The counters say what happened: the fault's reason (and the calls' outcome) moved
        # for the regions struck, nothing for the healthy ones.
        errors = per_region(metrics, "leftovers_scan_errors_total", "reason")
        assert {region: set(reasons) for region, reasons in errors.items()} == {
            region: {case.reason} for region in case.struck
        }
        calls = per_region(metrics, "leftovers_lookup_requests_total", "outcome")
        for region in REGIONS:
            moved = {case.outcome} if region in case.struck and case.outcome else set()
            assert set(calls.get(region, {})) - {"ok"} == moved
        if case.counted:  # one error counted per call the emulator failed
            assert case.outcome is not None
            counter = "throttled" if case.outcome == "throttled" else "faulted"
            failed = emulator.emulator.stats.get(ACCOUNT, FAULTED, counter)
            assert errors[FAULTED][case.reason] == calls[FAULTED][case.outcome] == failed > 0
        # /readyz: not ready when the store refused the writes, or no region was read.
        status, ready = await served.readyz()
        assert status == (200 if case.healthy else 503)
        assert ready["ready"] is bool(case.healthy)
        assert ready["store_writable"] is (case.faults is not None)
        assert ready["all_regions_failed"] is not bool(case.healthy)

        # Once the fault is lifted, the next scan publishes the truth exactly.
        if case.faults is None:
            free_up(service.store)
        else:
            await served.admin_post("faults", {"faults": ""})
        manual_clock.advance(600)
        assert (await service.scan_once()).outcome == "ok"
        body = await served.results()
        assert comparable(body["leftovers"]) == truth_rows(TRUTH)
        assert body["incomplete"] == body["incomplete_regions"] == []
        assert (await served.readyz())[0] == 200
