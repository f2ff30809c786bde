"""Seeded, deterministic demo histories of N accounts x R regions, with their ground truth."""

from __future__ import annotations

import gzip
import random
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from emulator.history.actors import Cast, account_cast
from emulator.history.envelope import Recorder
from emulator.history.noise import Noise
from emulator.history.original import original_script_case
from emulator.history.scenarios import GLOBAL_TYPES, Planner
from emulator.history.stories import play
from emulator.history.templates_catalog import Kind, kinds
from emulator.history.truth import GroundTruth, HistoryStats, TruthItem
from emulator.names import is_region
from scanner.errors import InputError

#: Below this many resources per (account, region), the history skips the fixed tour of every
#: type and story and only draws at random.
TOUR_MINIMUM = 40

__all__ = [
    "GeneratorSpec",
    "GroundTruth",
    "TruthItem",
    "generate",
    "generate_slices",
    "ground_truth",
    "original_script_case",
    "parse_spec",
    "write_history",
]


@dataclass(frozen=True, slots=True)
class GeneratorSpec:
    """What to generate; the same spec always yields the same history."""

    accounts: int = 3
    regions: tuple[str, ...] = ("us-east-1", "eu-west-1")
    seed: int = 1
    days: int = 90
    resources: int = 120
    noise: float = 8.0
    now: datetime | None = None
    leftover_rate: float = 0.15

    def end(self) -> datetime:
        """The end of the history: `now`, or the current minute."""
        if self.now is not None:
            return self.now.astimezone(UTC)
        return datetime.now(UTC).replace(second=0, microsecond=0)

    def text(self) -> str:
        """The spec in `parse_spec` form."""
        parts = [
            f"accounts={self.accounts}",
            f"regions={','.join(self.regions)}",
            f"seed={self.seed}",
            f"days={self.days}",
            f"resources={self.resources}",
            f"noise={self.noise:g}",
        ]
        if self.now is not None:
            parts.append(f"now={self.end().strftime('%Y-%m-%dT%H:%M:%SZ')}")
        return ",".join(parts)


_INT_KEYS = {"accounts": (1, 1000), "seed": (0, 2**63), "days": (1, 365), "resources": (0, 10**7)}
_FLOAT_KEYS = {"noise": (0.0, 1000.0), "leftover_rate": (0.0, 1.0)}


def parse_spec(text: str) -> GeneratorSpec:
    """Parse `accounts=3,regions=us-east-1,eu-west-1,seed=7,resources=200,noise=8,now=...`.

    A token without `=` continues the previous key's list (only `regions` takes a list).
    Raise InputError naming the key for an unknown key or a bad value.
    """
    values: dict[str, list[str]] = {}
    key: str | None = None
    for raw in text.split(","):
        token = raw.strip()
        if not token:
            continue
        if "=" in token:
            key, _, value = token.partition("=")
            key = key.strip()
            if key in values:
                raise InputError(f"generator spec: key {key!r} given twice")
            values[key] = [value.strip()]
        elif key is None:
            raise InputError(f"generator spec: {token!r} is not key=value")
        else:
            values[key].append(token)
    known = {f.name for f in fields(GeneratorSpec) if not f.name.startswith("_")}
    spec = GeneratorSpec()
    for key, items in values.items():
        if key not in known:
            raise InputError(
                f"generator spec: unknown key {key!r} (known: {', '.join(sorted(known))})"
            )
        if key != "regions" and len(items) > 1:
            raise InputError(f"generator spec: key {key!r} takes one value, got {len(items)}")
        spec = replace(spec, **{key: _value(key, items)})
    return spec


def _value(key: str, items: list[str]) -> Any:
    value = items[0]
    if key == "regions":
        regions = tuple(dict.fromkeys(item.lower() for item in items))
        for region in regions:
            if not is_region(region):
                raise InputError(f"generator spec: key 'regions': {region!r} is not a region")
        return regions
    if key == "now":
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"generator spec: key 'now': {value!r} is not an ISO time") from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if key in _INT_KEYS:
        low, high = _INT_KEYS[key]
        try:
            number = int(value)
        except ValueError:
            raise InputError(f"generator spec: key {key!r}: {value!r} is not an integer") from None
        if not low <= number <= high:
            raise InputError(f"generator spec: key {key!r}: {number} not in {low}..{high}")
        return number
    low_f, high_f = _FLOAT_KEYS[key]
    try:
        real = float(value)
    except ValueError:
        raise InputError(f"generator spec: key {key!r}: {value!r} is not a number") from None
    if not low_f <= real <= high_f:
        raise InputError(f"generator spec: key {key!r}: {real:g} not in {low_f:g}..{high_f:g}")
    return real


def account_ids(spec: GeneratorSpec) -> list[str]:
    """The spec's 12-digit account ids, drawn from its seed."""
    rng = random.Random(f"accounts/{spec.seed}")
    ids: list[str] = []
    while len(ids) < spec.accounts:
        candidate = f"{rng.randrange(10**11, 10**12):012d}"
        if candidate not in ids:
            ids.append(candidate)
    return ids


def _fixed(spec: GeneratorSpec) -> GeneratorSpec:
    """The spec with `now` pinned, so that every pass over it sees the same window."""
    return spec if spec.now is not None else replace(spec, now=spec.end())


@dataclass(slots=True)
class _Slice:
    """The history of one (account, region): its writes made, its reads to make."""

    account: str
    region: str
    planner: Planner
    noise: Noise
    read_count: int


def _window(spec: GeneratorSpec) -> tuple[int, int]:
    end = spec.end()
    start = end - timedelta(days=spec.days)
    return int(start.timestamp()), int(end.timestamp())


def _tours(spec: GeneratorSpec) -> dict[tuple[str, str], list[Kind]]:
    """The described types each (account, region) tours, so that the history as a whole shows
    every type once: dealt in turn, global types to us-east-1 only."""
    places = [(account, region) for account in account_ids(spec) for region in spec.regions]
    homes = [place for place in places if place[1] == "us-east-1"]
    tours: dict[tuple[str, str], list[Kind]] = {place: [] for place in places}
    dealt = {True: 0, False: 0}
    for kind in kinds().values():
        among = homes if kind.is_global else places
        if among:
            tours[among[dealt[kind.is_global] % len(among)]].append(kind)
            dealt[kind.is_global] += 1
    return tours


def _slices(spec: GeneratorSpec) -> Iterator[_Slice]:
    start, end = _window(spec)
    tours = _tours(spec)
    for account in account_ids(spec):
        cast = account_cast(random.Random(f"{spec.seed}/{account}/cast"), account)
        for region in spec.regions:
            yield _plan(spec, cast, (account, region), (start, end), tours[(account, region)])


def _plan(
    spec: GeneratorSpec,
    cast: Cast,
    where: tuple[str, str],
    window: tuple[int, int],
    tour: list[Kind],
) -> _Slice:
    """Write the writes of one (account, region) and prepare its reads."""
    account, region = where
    start, end = window
    rng = random.Random(f"{spec.seed}/{account}/{region}/writes")
    rec = Recorder(rng, account, region, start, end)
    planner = Planner(
        rec, cast, global_events=region == "us-east-1", leftover_rate=spec.leftover_rate
    )
    if spec.resources:
        play(planner, spec.resources, guaranteed=spec.resources >= TOUR_MINIMUM, tour=tour)
    reads = Recorder(
        random.Random(f"{spec.seed}/{account}/{region}/reads"), account, region, start, end
    )
    noise = Noise(reads.rng, reads, cast, planner.net, global_ok=region == "us-east-1")
    return _Slice(account, region, planner, noise, round(len(rec.writes) * spec.noise))


def _timed(piece: _Slice) -> Iterator[tuple[int, dict[str, Any]]]:
    """(epoch seconds, record) of one (account, region), writes and reads merged in time order."""
    writes = piece.planner.rec.sorted_writes()
    position, count = 0, len(writes)
    for ts, record in piece.noise.records(piece.noise.times(piece.read_count)):
        while position < count and writes[position][0] <= ts:
            yield writes[position][0], writes[position][2]
            position += 1
        yield ts, record
    for ts, _, record in writes[position:]:
        yield ts, record


def _merged(piece: _Slice) -> Iterator[dict[str, Any]]:
    for _, record in _timed(piece):
        yield record


def generate(spec: GeneratorSpec) -> Iterator[dict[str, Any]]:
    """The bare CloudTrail records of the history, per (account, region) in time order."""
    spec = _fixed(spec)
    for piece in _slices(spec):
        yield from _merged(piece)


def generate_slices(spec: GeneratorSpec) -> Iterator[tuple[str, str, Iterator[dict[str, Any]]]]:
    """(account, region, records in time order) for each (account, region) in turn."""
    spec = _fixed(spec)
    for piece in _slices(spec):
        yield piece.account, piece.region, _merged(piece)


def _truth_items(piece: _Slice) -> list[TruthItem]:
    rec = piece.planner.rec
    items = []
    for tracked in piece.planner.tracked:
        if not tracked.alive:
            continue
        region = "us-east-1" if tracked.resource_type in GLOBAL_TYPES else rec.region
        items.append(
            TruthItem(
                account_id=rec.account,
                region=region,
                resource_type=tracked.resource_type,
                resource_id=tracked.resource_id,
                state=tracked.state,
                created_at=datetime.fromtimestamp(tracked.created, UTC),
                create_event_id=tracked.event_id,
                created_by_arn=tracked.creator,
                renamed_from=tuple(tracked.renamed_from),
                created_via=tracked.created_via,
            )
        )
    return items


def _stats(piece: _Slice) -> HistoryStats:
    counts = piece.planner.counts
    writes = len(piece.planner.rec.writes)
    return HistoryStats(
        records=writes + piece.read_count,
        read_only=piece.read_count,
        writes=writes,
        failed_writes=counts.failed,
        created=counts.created,
        deleted=counts.deleted,
    )


def ground_truth(spec: GeneratorSpec) -> GroundTruth:
    """The leftovers of the history, from the generator's own bookkeeping (reads not made).

    `stats.failed_writes` counts refused writes; failed reads are drawn only when reads are made.
    """
    spec = _fixed(spec)
    items: list[TruthItem] = []
    stats = HistoryStats()
    for piece in _slices(spec):
        items += _truth_items(piece)
        stats += _stats(piece)
    return _truth(spec, items, stats)


def _truth(spec: GeneratorSpec, items: list[TruthItem], stats: HistoryStats) -> GroundTruth:
    start, end = _window(spec)
    return GroundTruth(
        leftovers=tuple(sorted(items)),
        window_start=datetime.fromtimestamp(start, UTC),
        window_end=datetime.fromtimestamp(end, UTC),
        spec=spec.text(),
        stats=stats,
    )


#: Seconds of history per trail-log file (CloudTrail delivers about every five minutes).
FILE_SECONDS = 300
_FILE_ID = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def write_history(
    spec: GeneratorSpec, out_dir: Path, *, file_seconds: int = FILE_SECONDS
) -> GroundTruth:
    """Write the history in CloudTrail's S3 layout under `out_dir`, and `truth.json` beside it.

    Files: `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/
    <account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<random16>.json.gz`, each `{"Records": [...]}`
    holding `file_seconds` (five minutes) of records in no particular order; the time in the
    name is the start of that span. Files are compressed and written by a few threads (zlib and
    file I/O release the GIL). Returns the truth, also written as `out_dir/truth.json`.
    """
    spec = _fixed(spec)
    items: list[TruthItem] = []
    stats = HistoryStats()
    out_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        pending: deque[Future[None]] = deque()
        for piece in _slices(spec):
            rng = random.Random(f"{spec.seed}/{piece.account}/{piece.region}/files")
            folder = out_dir / "AWSLogs" / piece.account / "CloudTrail" / piece.region
            for path, batch in _files(piece, folder, file_seconds, rng):
                pending.append(pool.submit(_write_file, path, batch))
                while len(pending) > 64:
                    pending.popleft().result()
            items += _truth_items(piece)
            stats += _stats(piece)
        for future in pending:
            future.result()
    truth = _truth(spec, items, stats)
    truth.write(out_dir / "truth.json")
    return truth


def _files(
    piece: _Slice, folder: Path, seconds: int, rng: random.Random
) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """(path, shuffled records) of each file of one (account, region)."""
    batch: list[dict[str, Any]] = []
    window = -1
    days: set[Path] = set()
    for ts, record in _timed(piece):
        if ts // seconds != window:
            if batch:
                rng.shuffle(batch)
                yield _file_path(piece, folder, window * seconds, rng, days), batch
            batch = []
            window = ts // seconds
        batch.append(record)
    if batch:
        rng.shuffle(batch)
        yield _file_path(piece, folder, window * seconds, rng, days), batch


def _file_path(piece: _Slice, folder: Path, ts: int, rng: random.Random, days: set[Path]) -> Path:
    moment = datetime.fromtimestamp(ts, UTC)
    day = folder / f"{moment:%Y}" / f"{moment:%m}" / f"{moment:%d}"
    if day not in days:
        day.mkdir(parents=True, exist_ok=True)
        days.add(day)
    suffix = "".join(rng.choices(_FILE_ID, k=16))
    return day / f"{piece.account}_CloudTrail_{piece.region}_{moment:%Y%m%dT%H%MZ}_{suffix}.json.gz"


def _write_file(path: Path, batch: list[dict[str, Any]]) -> None:
    data = gzip.compress(orjson.dumps({"Records": batch}), compresslevel=5, mtime=0)
    path.write_bytes(data)
