"""The store fixture: a fresh state file in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.store import Store


@pytest.fixture
async def store(tmp_path: Path) -> Store:
    return await Store.open(tmp_path / "state.db")
