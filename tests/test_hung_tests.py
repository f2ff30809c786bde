"""A hung test fails, sync or async, instead of stalling the run: pyproject's default timeout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

HUNG = """
import threading

import anyio


async def test_hangs_async() -> None:
    await anyio.Event().wait()


def test_hangs_sync() -> None:
    threading.Event().wait()
"""


def test_a_hung_test_fails_after_the_default_timeout(tmp_path: Path) -> None:
    (tmp_path / "test_hung.py").write_text(HUNG)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-c", str(ROOT / "pyproject.toml"),
         "--rootdir", str(tmp_path), "-o", "timeout=1", "-p", "no:randomly", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )  # fmt: skip
    out = done.stdout
    assert "2 failed" in out, out[-2000:]
    assert out.count("Timeout (>1.0s)") >= 2, out[-2000:]


def test_the_default_is_generous(pytestconfig: pytest.Config) -> None:
    assert float(pytestconfig.getini("timeout")) >= 120
