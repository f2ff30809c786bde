"""The aws-CLI baseline, the original approach: `aws cloudtrail lookup-events`, stream by stream."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass

from bench.harness import child_env, get_json, served_per_region
from emulator import generate, parse_spec

ROLE = "arn:aws:iam::{account}:role/LeftoversReader"
#: The event sources of the catalog, one CLI run each, as the original script did for EC2 and RDS.
SOURCES = (
    "ec2.amazonaws.com",
    "rds.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "s3.amazonaws.com",
    "elasticfilesystem.amazonaws.com",
    "eks.amazonaws.com",
    "route53.amazonaws.com",
)
#: Global services record their events in one region only.
GLOBAL_SOURCES = {"route53.amazonaws.com": "us-east-1"}
Stream = tuple[str, str, str, str]  # account, region, attribute key, attribute value


@dataclass(frozen=True, slots=True)
class CliRun:
    """The CLI's sequential pass: measured whole, or measured on a sample and estimated."""

    seconds: float
    calls: int
    streams: int
    total_calls: int
    complete: bool
    estimate: float


def pages(events: int) -> int:
    """LookupEvents calls to page through `events` events (50 a page; at least one call)."""
    return max(1, -(-events // 50))


def cli_streams(accounts: list[str], regions: tuple[str, ...], same_filter: bool) -> list[Stream]:
    """The streams in the original script's order: account after account, region after region."""
    out: list[Stream] = []
    for account in accounts:
        for region in regions:
            if same_filter:
                out.append((account, region, "ReadOnly", "false"))
                continue
            out.extend(
                (account, region, "EventSource", source)
                for source in SOURCES
                if GLOBAL_SOURCES.get(source, region) == region
            )
    return out


def stream_sizes(spec_text: str) -> Counter[Stream]:
    """Events per CLI stream (both filters), counted from the generated history."""
    sizes: Counter[Stream] = Counter()
    for body in generate(parse_spec(spec_text)):
        account = body.get("recipientAccountId") or body["userIdentity"].get("accountId")
        region = body["awsRegion"]
        sizes[(account, region, "EventSource", body["eventSource"])] += 1
        if not body.get("readOnly", False):
            sizes[(account, region, "ReadOnly", "false")] += 1
    return sizes


def assumed_keys(url: str, account: str) -> dict[str, str]:
    """Keys for `account` from the emulator's STS, as `aws sts assume-role` would give."""
    import boto3

    sts = boto3.client(
        "sts",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIAEMULATOR00000000",
        aws_secret_access_key="emulator-secret-key",
    )
    answer = sts.assume_role(RoleArn=ROLE.format(account=account), RoleSessionName="bench")
    credentials = answer["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


def _one_stream(cli: str, url: str, stream: Stream, env: dict[str, str], cap: float) -> None:
    """One `lookup-events` run with the CLI's own pagination, saved to a file; cut at `cap` s."""
    _account, region, key, value = stream
    command = [cli, "cloudtrail", "lookup-events", "--endpoint-url", url]
    command += ["--region", region, "--output", "json"]
    command += ["--lookup-attributes", f"AttributeKey={key},AttributeValue={value}"]
    with tempfile.TemporaryFile() as handle:
        try:
            subprocess.run(command, stdout=handle, env=env, check=True, timeout=cap)
        except subprocess.TimeoutExpired:
            return


def run_cli(url: str, streams: list[Stream], sizes: Counter[Stream], budget: float) -> CliRun:
    """Run the streams in order within `budget` seconds, else sample and estimate.

    Past half the budget, a stream runs only if its region class (us-east-1, or the others)
    has not been measured yet, cut at half the budget; the pass is then estimated as the calls
    of every stream times the measured seconds per call of its class.
    """
    cli = os.environ.get("AWS_CLI") or shutil.which("aws")
    if not cli:
        raise RuntimeError("the aws CLI is needed: set AWS_CLI (make bench does)")
    keys = {a: child_env(**assumed_keys(url, a)) for a in sorted({s[0] for s in streams})}
    total_calls = sum(pages(sizes[s]) for s in streams)
    stats_url = url + "/_emulator/stats"
    per_call: dict[bool, float] = {}
    started = time.perf_counter()
    calls = 0
    complete = True
    for stream in streams:
        east = stream[1] == "us-east-1"
        if time.perf_counter() - started > budget / 2 and east in per_call:
            complete = False
            continue
        before = get_json(stats_url)
        began = time.perf_counter()
        _one_stream(cli, url, stream, keys[stream[0]], budget / 2)
        seconds = time.perf_counter() - began
        served = sum(served_per_region(before, get_json(stats_url)).values())
        calls += served
        if served:
            per_call[east] = seconds / served
    seconds = time.perf_counter() - started
    if complete:
        return CliRun(seconds, calls, len(streams), total_calls, True, seconds)
    fallback = max(per_call.values())
    estimate = sum(pages(sizes[s]) * per_call.get(s[1] == "us-east-1", fallback) for s in streams)
    return CliRun(seconds, calls, len(streams), total_calls, False, estimate)
