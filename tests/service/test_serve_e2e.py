"""`leftovers serve` as a subprocess against the emulator: ground truth, incremental scans,
SIGKILL in the middle of a scan, and metrics that agree with the results."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import urllib3
from prometheus_client.parser import text_string_to_metric_families

from emulator import Emulator, GeneratorSpec, Running, generate
from emulator.history.generator import ground_truth
from emulator.history.scenarios import RESOURCE_TYPES
from emulator.history.truth import GroundTruth
from scanner.records import format_time

pytestmark = pytest.mark.slow

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
SPEC = GeneratorSpec(accounts=2, seed=11, days=6, resources=24, noise=2.0, now=NOW)
HTTP = urllib3.PoolManager(timeout=urllib3.Timeout(total=10), retries=False)


@dataclass
class World:
    """The emulator, the history's ground truth, and a folder for state and configs."""

    running: Running
    truth: GroundTruth
    folder: Path
    issued: list[str]

    def admin(self, method: str, path: str, body: bytes | None = None) -> Any:
        answer = HTTP.request(method, f"{self.running.endpoint_url}/_emulator/{path}", body=body)
        assert answer.status == 200, answer.data
        return orjson.loads(answer.data)

    def calls(self) -> int:
        return int(self.admin("GET", "stats")["totals"]["calls"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    emulator = Emulator(records=generate(SPEC), rate=1_000_000.0, latency=None, seed=0)
    issued: list[str] = []
    assume_role = emulator.sessions.assume_role

    def recording(params: Any) -> str:
        answer = assume_role(params)
        issued.extend(re.findall(r"<(?:AccessKeyId|SecretAccessKey|SessionToken)>([^<]+)<", answer))
        return answer

    emulator.sessions.assume_role = recording  # type: ignore[method-assign]  # records what it issues
    with emulator.in_thread() as running:
        yield World(running, ground_truth(SPEC), tmp_path_factory.mktemp("serve"), issued)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Served:
    """One `leftovers serve` process."""

    def __init__(self, world: World, state: Path, interval: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config = world.folder / "leftovers.yaml"
        config.write_text(
            "accounts:\n  organization:\n    role_name: LeftoversReader\n"
            "regions: [us-east-1, eu-west-1]\nrate: 100\nlog_level: debug\n"
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LEFTOVERS_"))},
            **world.running.env("us-east-1"),
        }
        env.pop("AWS_ENDPOINT_URL", None)
        self.log_path = world.folder / f"serve-{self.port}.log"
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scanner",
                "serve",
                "--config",
                str(config),
                "--endpoint-url",
                world.running.endpoint_url,
                "--listen",
                f"127.0.0.1:{self.port}",
                "--state",
                str(state),
                "--interval",
                str(interval),
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def get(self, path: str) -> Any:
        answer = HTTP.request("GET", self.base + path)
        assert answer.status == 200, (path, answer.status, answer.data)
        return orjson.loads(answer.data) if path != "/metrics" else answer.data.decode()

    def ready(self) -> dict[str, Any] | None:
        try:
            answer = HTTP.request("GET", self.base + "/readyz")
        except urllib3.exceptions.HTTPError:
            return None
        return orjson.loads(answer.data) if answer.status == 200 else None

    def wait(self, until: Callable[[dict[str, Any]], bool], seconds: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited with {self.process.returncode}"
            ready = self.ready()
            if ready is not None and until(ready):
                return ready
            time.sleep(0.1)
        raise AssertionError("serve did not get there in time")

    def results(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        query = "/results?limit=7"
        while True:
            page = self.get(query)
            items += page["leftovers"]
            if page["next_cursor"] is None:
                return items
            query = f"/results?limit=7&cursor={page['next_cursor']}"

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.process.send_signal(signum)
        code = self.process.wait(timeout=10)
        self.log.close()
        return code


def comparable(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            i["account_id"],
            i["region"],
            i["resource_type"],
            i["resource_id"],
            i["state"],
            i["created_at"],
            i["create_event_id"],
            i["created_by"]["arn"],
        )
        for i in items
        if i["resource_type"] in RESOURCE_TYPES  # the generator's truth knows only these
    )


def truth_rows(truth: GroundTruth) -> list[tuple[Any, ...]]:
    return sorted(
        (*item.key, item.state, format_time(item.created_at), item.create_event_id,
         item.created_by_arn)
        for item in truth.leftovers
    )  # fmt: skip


def record(account: str, region: str, name: str, when: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "IAMUser",
            "arn": f"arn:aws:iam::{account}:user/e2e",
            "accountId": account,
            "userName": "e2e",
            "accessKeyId": "AKIAE2E0000000000000",
        },
        "eventTime": format_time(when),
        "eventSource": "ec2.amazonaws.com",
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "e2e",
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        **fields,
    }


def metric_sum(text: str, name: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == name
        for sample in family.samples
    )


def test_serve_end_to_end(world: World) -> None:
    truth = truth_rows(world.truth)
    assert truth, "the generated history has no leftovers"
    served = Served(world, world.folder / "a" / "state.db", interval=1)
    try:
        first = served.wait(lambda r: r["ready"])
        assert comparable(served.results()) == truth

        # Idle incremental scan: about one call per stream (2 accounts x 2 regions).
        scan = served.wait(lambda r: r["last_scan"]["id"] > first["last_scan"]["id"])
        before = world.calls()
        served.wait(lambda r: r["last_scan"]["id"] > scan["last_scan"]["id"])
        idle_calls = world.calls() - before
        assert 4 <= idle_calls <= 6

        # New events: a volume created, and a leftover volume or instance deleted.
        account, other = sorted({row[0] for row in truth})[:2]
        volume = f"vol-{uuid.uuid4().hex[:17]}"
        just_now = datetime.now(UTC) - timedelta(seconds=5)
        created = record(account, "eu-west-1", "CreateVolume", just_now,
                         responseElements={"volumeId": volume, "size": 8, "volumeType": "gp3"},
                         requestParameters={"size": 8})  # fmt: skip
        victim = next(row for row in truth if row[2] == "ec2.instance")
        instances = {"instancesSet": {"items": [{"instanceId": victim[3]}]}}
        deleted = record(victim[0], victim[1], "TerminateInstances", just_now,
                         requestParameters=instances, responseElements=instances)  # fmt: skip
        added = world.admin("POST", "records", orjson.dumps({"Records": [created, deleted]}))
        assert added["added"] == 2
        mark = served.wait(lambda r: True)["last_scan"]["id"]
        served.wait(lambda r: r["last_scan"]["id"] >= mark + 2)
        after = {(i["account_id"], i["resource_type"], i["resource_id"]) for i in served.results()}
        assert (account, "ec2.volume", volume) in after
        assert (victim[0], "ec2.instance", victim[3]) not in after
        reference = comparable(served.results())
        assert len(reference) == len(truth)

        # Debug logs of scans through assumed roles hold no credentials.
        text = served.log_path.read_text()
        assert "scan_completed" in text
        assert '"level": "debug"' in text
        assert len(world.issued) >= 3
        for secret in [*world.issued, world.running.env()["AWS_SECRET_ACCESS_KEY"]]:
            assert secret not in text
        assert world.running.env()["AWS_ACCESS_KEY_ID"] not in text

        # /metrics agrees with /results.
        metrics = served.get("/metrics")
        assert metric_sum(metrics, "leftovers_resources") == len(served.results())
        assert metric_sum(metrics, "leftovers_scan_errors_total") == 0
        del other
    finally:
        assert served.stop() == 0

    # SIGKILL in the middle of a first scan, then restart: the same results, nothing twice.
    world.admin("POST", "faults", b"slow=0.3")
    state = world.folder / "b" / "state.db"
    killed = Served(world, state, interval=3600)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if state.exists() and _count(state, "SELECT count(*) FROM facts") > 0:
                break
            time.sleep(0.05)
        assert _count(state, "SELECT count(*) FROM pending") > 0, "the scan ended before the kill"
        killed.process.send_signal(signal.SIGKILL)
        killed.process.wait(timeout=10)
    finally:
        killed.log.close()
    world.admin("POST", "faults", b"")
    restarted = Served(world, state, interval=3600)
    try:
        restarted.wait(lambda r: r["ready"])
        again = restarted.results()
        assert comparable(again) == reference
        assert len({(i["account_id"], i["region"], i["resource_type"], i["resource_id"])
                    for i in again}) == len(again)  # fmt: skip
        assert _count(state, "SELECT count(*) FROM pending") == 0
        metrics = restarted.get("/metrics")
        assert metric_sum(metrics, "leftovers_resources") == len(again)
    finally:
        assert restarted.stop() == 0


def _count(state: Path, query: str) -> int:
    connection = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=5)
    try:
        return int(connection.execute(query).fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        connection.close()
