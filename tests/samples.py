"""The real CloudTrail records vendored in tests/data/cloudtrail (origins and licences: NOTICE)."""

from __future__ import annotations

from pathlib import Path

from scanner.records import Record, read_file

#: The vendored samples: `<origin>/<path as collected>`, as listed in NOTICE beside them.
SAMPLES = Path(__file__).resolve().parent / "data" / "cloudtrail"


def samples_dir() -> Path:
    """The samples folder (part of the repository, so never missing)."""
    return SAMPLES


def sample_records(relative: str) -> list[Record]:
    """Every record of one sample file (relative to the samples folder)."""
    return list(read_file(SAMPLES / relative))
