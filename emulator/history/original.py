"""The history the original script was written against: 3 EC2 instances, 1 terminated, 1 RDS."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from emulator.history import templates as ec2
from emulator.history import templates_rds as rds
from emulator.history.actors import Cast, iam_user
from emulator.history.envelope import Call, Recorder
from emulator.history.noise import Noise
from emulator.history.truth import GroundTruth, HistoryStats, TruthItem

ACCOUNT = "123456789012"
REGION = "us-east-1"


def original_script_case(now: datetime | None = None) -> tuple[list[dict[str, Any]], GroundTruth]:
    """One console user in us-east-1 launches three t2.micro instances (two calls), terminates
    one, and creates the RDS instance `database-1-instance-1` (db.r5.large), within the hour
    before `now`; a few reads around it. Returns the records (in time order) and the truth.
    """
    end_time = (now or datetime.now(UTC).replace(second=0, microsecond=0)).astimezone(UTC)
    end = int(end_time.timestamp())
    start = end - 90 * 86400
    rng = random.Random("original-script")
    rec = Recorder(rng, ACCOUNT, REGION, start, end)
    student = iam_user(rng, ACCOUNT, "student", "console")
    net = ec2.network(rec)
    t0 = end - 50 * 60
    first = [rec.hex_id("i-")]
    rest = [rec.hex_id("i-"), rec.hex_id("i-")]
    launch_one = rec.emit(
        t0, ec2.run_instances(Call(rec, t0, student, net), first, "t2.micro", "test-1")
    )
    launch_two = rec.emit(
        t0 + 95, ec2.run_instances(Call(rec, t0 + 95, student, net), rest, "t2.micro", "test-2")
    )
    changes = [(first[0], "running", "shutting-down")]
    ts = t0 + 600
    rec.emit(
        ts, ec2.instance_state_change(Call(rec, ts, student, net), "TerminateInstances", changes)
    )
    db = rds.DbInstance(
        identifier="database-1-instance-1",
        instance_class="db.r5.large",
        engine="aurora-mysql",
        engine_version="8.0.mysql_aurora.3.05.2",
        resource_id=rec.upper_id("db-", 26, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
        zone=f"{REGION}a",
        created=t0 + 900,
    )
    ts = t0 + 900
    create_db = rec.emit(
        ts, rds.create_db_instance(Call(rec, ts, student, net), "database-1-instance-1", db)
    )
    cast = Cast((student,), (), student, student, student)
    noise = Noise(random.Random("original-script/reads"), rec, cast, net, global_ok=True)
    for ts, record in noise.records([t0 - 120, t0 + 30, t0 + 200, t0 + 620, t0 + 960, end - 60]):
        rec.emit(ts, record)
    records = [record for _, _, record in rec.sorted_writes()]
    leftovers = [
        TruthItem(
            ACCOUNT,
            REGION,
            "ec2.instance",
            instance,
            "running",
            datetime.fromtimestamp(t0 + 95, UTC),
            launch_two["eventID"],
            student.arn,
        )
        for instance in rest
    ]
    leftovers.append(
        TruthItem(
            ACCOUNT,
            REGION,
            "rds.db_instance",
            "database-1-instance-1",
            "available",
            datetime.fromtimestamp(t0 + 900, UTC),
            create_db["eventID"],
            student.arn,
        )
    )
    reads = sum(1 for r in records if r["readOnly"])
    stats = HistoryStats(
        records=len(records),
        read_only=reads,
        writes=len(records) - reads,
        failed_writes=sum(1 for r in records if "errorCode" in r and not r["readOnly"]),
        created=4,
        deleted=1,
    )
    del launch_one
    truth = GroundTruth(
        leftovers=tuple(sorted(leftovers)),
        window_start=datetime.fromtimestamp(start, UTC),
        window_end=end_time,
        spec="original-script",
        stats=stats,
    )
    return records, truth
