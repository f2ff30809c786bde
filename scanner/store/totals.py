"""Totals per finished scan and account in the state file: the history the overview charts."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from scanner.store.codec import time_from_text, time_text


@dataclass(frozen=True, slots=True)
class ScanTotal:
    """One account's leftovers and their known estimated cost (USD/hour) after one scan."""

    scan_id: int
    finished_at: datetime
    account_id: str
    leftovers: int
    hourly_cost: float


def account_totals(
    scan_id: int,
    finished_at: datetime,
    leftovers: Iterable[tuple[str, float | None]],
    accounts: Iterable[str] = (),
) -> list[ScanTotal]:
    """The totals of one scan from its leftovers' (account, hourly cost or None); each of
    `accounts` without leftovers gets a row of zeros (a line going to zero stays visible)."""
    counts: dict[str, int] = dict.fromkeys(accounts, 0)
    costs: dict[str, float] = dict.fromkeys(accounts, 0.0)
    for account_id, cost in leftovers:
        counts[account_id] = counts.get(account_id, 0) + 1
        costs[account_id] = costs.get(account_id, 0.0) + (cost or 0.0)
    return [
        ScanTotal(scan_id, finished_at, account_id, counts[account_id], costs[account_id])
        for account_id in sorted(counts)
    ]


def record(connection: sqlite3.Connection, scan_id: int, rows: Sequence[ScanTotal]) -> bool:
    """Keep a scan's totals once; False when that scan already has them."""
    with connection:
        connection.execute("BEGIN IMMEDIATE")
        known = connection.execute(
            "SELECT 1 FROM scan_totals WHERE scan_id = ? LIMIT 1", (scan_id,)
        ).fetchone()
        if known:
            return False
        connection.executemany(
            "INSERT INTO scan_totals (scan_id, finished_at, account_id, leftovers, hourly_cost)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (r.scan_id, time_text(r.finished_at), r.account_id, r.leftovers, r.hourly_cost)
                for r in rows
            ],
        )
    return True


def since(connection: sqlite3.Connection, start: datetime) -> list[ScanTotal]:
    """Every kept total of the scans finished at or after `start`, oldest first."""
    return [
        ScanTotal(scan_id, time_from_text(finished), account_id, leftovers, cost)
        for scan_id, finished, account_id, leftovers, cost in connection.execute(
            "SELECT scan_id, finished_at, account_id, leftovers, hourly_cost FROM scan_totals"
            " WHERE finished_at >= ? ORDER BY finished_at, scan_id, account_id",
            (time_text(start),),
        )
    ]
