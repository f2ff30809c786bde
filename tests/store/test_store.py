"""The Store facade: what it keeps survives closing and opening the file again."""

from __future__ import annotations

from pathlib import Path

from scanner.lifecycle import Change
from scanner.plan import Work
from scanner.store import Store
from tests.store.builders import KEY, STREAM, WHERE, WINDOW, fact, page


async def test_state_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = await Store.open(path)
    await store.begin_region(KEY.account_id, KEY.region, WINDOW.end, [Work(STREAM, WINDOW)])
    await store.apply(page([fact("e1"), fact("e2", Change.DELETE, 5)], WINDOW))
    await store.close()
    reopened = await Store.open(path)
    [lifecycle] = await reopened.lifecycles()
    assert lifecycle.deleted is not None
    assert (await reopened.regions())[WHERE].checkpoint == WINDOW.end
    await reopened.close()
