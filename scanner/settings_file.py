"""The settings file's model: what a YAML file, `LEFTOVERS_*` variables and flags may say,
checked by pydantic (the frozen runtime settings are built from it in settings.py)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

import botocore.loaders
from pydantic import BaseModel, ConfigDict, Field, field_validator

from scanner.trail_settings import AthenaModel, TrailBucketModel

MAX_LOOKBACK_DAYS = 90

#: How a region is read: one write stream, one stream per event name, or `auto` (plan.py).
StreamStrategy = Literal["auto", "read_only", "event_names"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountModel(_Model):
    id: Annotated[str, Field(pattern=r"^\d{12}$")]
    role_arn: Annotated[str | None, Field(pattern=r"^arn:aws[\w-]*:iam::\d{12}:role/.+$")] = None


class OrganizationSpec(_Model):
    role_name: Annotated[str, Field(min_length=1, max_length=64)] = "OrganizationAccountAccessRole"


class OrganizationModel(_Model):
    organization: OrganizationSpec


class RetryModel(_Model):
    attempts: Annotated[int, Field(ge=1, le=20)] = 6
    base_delay_seconds: Annotated[float, Field(gt=0, le=60)] = 0.5
    max_delay_seconds: Annotated[float, Field(gt=0, le=600)] = 20.0
    call_timeout_seconds: Annotated[float, Field(gt=0, le=600)] = 20.0


class ServiceModel(_Model):
    listen: Annotated[str, Field(pattern=r"^[^\s:]*:\d{1,5}$")] = "127.0.0.1:9100"
    state_path: str = "state/leftovers.db"
    interval_seconds: Annotated[int, Field(ge=1)] = 3600
    overlap_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 15
    bearer_token: Annotated[str | None, Field(min_length=16)] = None
    # Past CloudTrail's 90 days, so that no event of an expired lifecycle can be read again.
    deleted_retention_days: Annotated[int, Field(ge=MAX_LOOKBACK_DAYS + 1)] = 180


class FileModel(_Model):
    """The shape of `config/leftovers.yaml`."""

    accounts: (
        Literal["current"] | Annotated[list[AccountModel], Field(min_length=1)] | OrganizationModel
    ) = "current"
    regions: Literal["all"] | Annotated[list[str], Field(min_length=1)] = "all"
    lookback_days: Annotated[int, Field(ge=1, le=MAX_LOOKBACK_DAYS)] = MAX_LOOKBACK_DAYS
    resource_types: Literal["all"] | Annotated[list[str], Field(min_length=1)] = "all"
    user_name: Annotated[str | None, Field(min_length=1)] = None
    endpoint_url: Annotated[str | None, Field(pattern=r"^https?://[^\s/]+(/\S*)?$")] = None
    rate: Annotated[float, Field(gt=0, le=100)] = 2.0
    burst: Annotated[int, Field(ge=1, le=100)] = 1
    stream_strategy: StreamStrategy = "auto"
    concurrency: Annotated[int, Field(ge=1, le=64)] = 16
    deadline_seconds: Annotated[float | None, Field(gt=0)] = None
    max_file_mb: Annotated[int, Field(ge=1, le=64 * 1024)] = 512
    retry: RetryModel = RetryModel()
    verify: bool = False
    verify_max_age_seconds: Annotated[int, Field(ge=0)] = 6 * 3600
    service: ServiceModel = ServiceModel()
    trail_bucket: TrailBucketModel = TrailBucketModel()
    athena: AthenaModel = AthenaModel()
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    prices_path: Annotated[str | None, Field(min_length=1)] = None
    ignore: Any = None  # checked by scanner.ignore, whose messages name the rule

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: object) -> object:
        if isinstance(value, list):
            for region in value:
                if not _is_region(region):
                    raise ValueError(_region_problem(region))
        return value


def _is_region(name: str) -> bool:
    return name in known_regions()


@cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's endpoint data."""
    data = botocore.loaders.create_loader().load_data("endpoints")
    return frozenset(region for p in data["partitions"] for region in p["regions"])


def _region_problem(name: str) -> str:
    if name.lower() in known_regions():
        return f"{name!r} is not an AWS region name: region names are lower case ({name.lower()})"
    return f"{name!r} is not an AWS region known to botocore (such as us-east-1)"
