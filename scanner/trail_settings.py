"""Settings of the trail sources (a trail's S3 bucket, Athena): file models and frozen values.

`settings.py` holds them under `trail_bucket:` and `athena:` and validates them with the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

_S3_URL = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/\S*)?$"
_HTTP_URL = r"^https?://[^\s/]+(/\S*)?$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrailBucketModel(_Model):
    url: Annotated[str | None, Field(pattern=_S3_URL)] = None
    role_arn: Annotated[str | None, Field(pattern=r"^arn:aws[\w-]*:iam::\d{12}:role/.+$")] = None
    region: Annotated[str, Field(min_length=1)] = "us-east-1"
    endpoint_url: Annotated[str | None, Field(pattern=_HTTP_URL)] = None
    cache_dir: Annotated[str, Field(min_length=1)] = "state/trail-cache"
    concurrency: Annotated[int, Field(ge=1, le=256)] = 32


@dataclass(frozen=True, slots=True)
class TrailBucketSettings:
    """Where an organization or account trail delivers its logs, and how to fetch them: the
    bucket's `s3://BUCKET/PREFIX`, a role to assume for it, its region, an endpoint (else
    botocore's `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`), the local cache, parallel downloads."""

    url: str | None = None
    role_arn: str | None = None
    region: str = "us-east-1"
    endpoint_url: str | None = None
    cache_dir: str = "state/trail-cache"
    concurrency: int = 32


class AthenaModel(_Model):
    workgroup: Annotated[str, Field(min_length=1)] = "primary"
    database: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,255}$")] = "default"
    table: Annotated[str, Field(pattern=r"^[a-z0-9_]{1,255}$")] = "leftovers_trail"
    output_location: Annotated[str | None, Field(pattern=_S3_URL)] = None
    organization_id: Annotated[str | None, Field(pattern=r"^o-[a-z0-9]{10,32}$")] = None
    region: Annotated[str, Field(min_length=1)] = "us-east-1"
    endpoint_url: Annotated[str | None, Field(pattern=_HTTP_URL)] = None
    batch_accounts: Annotated[int, Field(ge=1, le=1000)] = 100
    batch_days: Annotated[int, Field(ge=1, le=366)] = 31
    poll_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0


@dataclass(frozen=True, slots=True)
class AthenaSettings:
    """The Athena table over the trail bucket (`trail_bucket.url`) and how to query it: the
    workgroup, database and table, where UNLOAD writes (`output_location`), the organization id
    (None: an account trail), the region and endpoint (else botocore's `AWS_ENDPOINT_URL_ATHENA`),
    accounts and days per query, seconds between two polls of a running query."""

    workgroup: str = "primary"
    database: str = "default"
    table: str = "leftovers_trail"
    output_location: str | None = None
    organization_id: str | None = None
    region: str = "us-east-1"
    endpoint_url: str | None = None
    batch_accounts: int = 100
    batch_days: int = 31
    poll_seconds: float = 2.0
