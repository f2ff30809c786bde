"""Large and hostile trail files: a cap on the decompressed size, and trail files read a record
at a time, across chunk boundaries and multi-byte characters alike."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from scanner.cli import main
from scanner.records import RecordFileError, read_file
from tests.conftest import MakeRecord

MIB = 2**20


def gzip_bomb(path: Path, expanded: int) -> Path:
    """A gzip file of `expanded` bytes of white space inside a trail file, a few KiB on disk."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    with path.open("wb") as out:
        out.write(packer.compress(b'{"Records": ['))
        block = b" " * MIB
        for _ in range(expanded // MIB):
            out.write(packer.compress(block))
        out.write(packer.compress(b"]}"))
        out.write(packer.flush())
    return path


def test_a_gzip_bomb_stops_at_the_cap_and_names_the_file(tmp_path: Path) -> None:
    bomb = gzip_bomb(tmp_path / "bomb.json.gz", 64 * MIB)
    assert bomb.stat().st_size < MIB // 4
    with pytest.raises(RecordFileError) as caught:
        list(read_file(bomb, max_bytes=8 * MIB))
    assert str(caught.value) == (
        f"{bomb}: more than 8 MiB once decompressed: not read "
        "(the max_file_mb setting raises the limit)"
    )


def test_the_scan_reports_the_file_over_the_cap_and_reads_the_others(
    tmp_path: Path,
    make_record: MakeRecord,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = gzip_bomb(tmp_path / "bomb.json.gz", 4 * MIB)
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps(
            {
                "Records": [
                    make_record(
                        name="CreateBucket",
                        source="s3.amazonaws.com",
                        requestParameters={"bucketName": "kept"},
                    )
                ]
            }
        )
    )
    monkeypatch.setenv("LEFTOVERS_MAX_FILE_MB", "2")
    status = main(["scan", "--format", "json", "--source", "files", str(tmp_path)])
    document = orjson.loads(capsys.readouterr().out)
    assert status == 2
    [error] = document["errors"]
    assert error["stream"] == f"file:{bomb}"
    assert error["reason"].endswith(
        "more than 2 MiB once decompressed: not read (the max_file_mb setting raises the limit)"
    )
    assert [item["resource_id"] for item in document["leftovers"]] == ["kept"]


def records_across_chunks(make_record: MakeRecord, count: int) -> list[dict[str, Any]]:
    """Records with multi-byte characters, enough of them to span several 1 MiB chunks."""
    return [
        make_record(
            name="CreateVolume",
            requestParameters={"note": "é€😀" * (i % 50), "size": i},
            responseElements={"volumeId": f"vol-{i:017x}"},
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_a_trail_file_reads_the_same_a_record_at_a_time(
    tmp_path: Path, make_record: MakeRecord, suffix: str
) -> None:
    records = records_across_chunks(make_record, 6000)
    text = json.dumps({"Records": records}, indent=1, ensure_ascii=False).encode()
    assert len(text) > 3 * MIB
    path = tmp_path / f"big{suffix}"
    path.write_bytes(gzip.compress(text) if suffix.endswith(".gz") else text)
    assert [dict(r.body) for r in read_file(path)] == records


def test_records_come_before_the_end_of_the_file_is_read(
    tmp_path: Path, make_record: MakeRecord
) -> None:
    """Streaming: the first records arrive although the file is broken near its end."""
    records = records_across_chunks(make_record, 4000)
    text = json.dumps({"Records": records}).encode()
    path = tmp_path / "cut.json"
    path.write_bytes(text[: len(text) - 300])  # cut inside the last record
    reader = read_file(path)
    assert next(reader).event_id == records[0]["eventID"]
    with pytest.raises(RecordFileError, match=r"cut.json: not valid JSON"):
        list(reader)


def test_a_trail_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"Records": [{"eventName": "Caf\xe9"}]}')
    with pytest.raises(RecordFileError, match=r"latin1.json: not UTF-8 text"):
        list(read_file(path))


def test_a_broken_record_early_in_a_large_file_is_refused_without_reading_on(
    tmp_path: Path, make_record: MakeRecord
) -> None:
    records = records_across_chunks(make_record, 6000)
    text = json.dumps({"Records": records}).encode()
    broken = text.replace(b'"eventVersion"', b'"eventVersion" "', 1)  # the first record
    path = tmp_path / "broken.json"
    path.write_bytes(broken)
    # Reading on to the end would pass the cap first; the JSON error comes from the first chunk.
    with pytest.raises(RecordFileError, match=r"broken.json: not valid JSON \(Expecting ':'"):
        list(read_file(path, max_bytes=2 * MIB))
