"""What the service tests share: a history of volumes per region, settings against the emulator."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from scanner.settings import Settings, load_settings
from tests.conftest import EMULATOR_NOW, MakeRecord


def volume_id(region: str, index: int = 0) -> str:
    """The id of a region's `index`-th volume in `volume_history`."""
    return f"vol-{sum(map(ord, region)):05x}{index:012x}"


def volume_history(
    make_record: MakeRecord, regions: tuple[str, ...], per_region: int = 1
) -> list[dict[str, Any]]:
    """`per_region` volumes created in each region, an hour apart, the newest a day ago."""
    return [
        make_record(
            name="CreateVolume",
            region=region,
            when=EMULATOR_NOW - timedelta(days=1, hours=index),
            responseElements={"volumeId": volume_id(region, index), "size": 8},
        )
        for region in regions
        for index in range(per_region)
    ]


def settings_of(
    endpoint_url: str, state: Path, regions: tuple[str, ...], **flags: object
) -> Settings:
    """Settings for a Service against the emulator (no rate limit to speak of)."""
    return load_settings(
        None,
        env={},
        flags={
            "regions": list(regions),
            "endpoint_url": endpoint_url,
            "rate": 100.0,
            "service.state_path": str(state),
            **flags,
        },
    )
