"""Where the real CloudTrail samples live, and how tests read them (skipping when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner.records import Record, read_file

_ROOT = Path(__file__).resolve().parents[1]


def _find_samples() -> Path:
    """`../shared/cloudtrail-samples` relative to the repository root (or to a folder above it,
    for git worktrees kept deeper), or `$CLOUDTRAIL_SAMPLES`."""
    if os.environ.get("CLOUDTRAIL_SAMPLES"):
        return Path(os.environ["CLOUDTRAIL_SAMPLES"])
    for folder in (_ROOT, *_ROOT.parents):
        candidate = folder / ".." / "shared" / "cloudtrail-samples"
        if candidate.is_dir():
            return candidate
    return _ROOT / ".." / "shared" / "cloudtrail-samples"


SAMPLES = _find_samples()


def samples_dir() -> Path:
    """The samples folder; skips the calling test when it is absent."""
    if not SAMPLES.is_dir():
        pytest.skip(f"real CloudTrail samples not found at {SAMPLES.resolve()}")
    return SAMPLES


def sample_records(relative: str) -> list[Record]:
    """Every record of one sample file (relative to the samples folder)."""
    return list(read_file(samples_dir() / relative))
