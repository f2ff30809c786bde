"""Settings: a YAML file, `LEFTOVERS_*` environment overrides and flags, validated once, frozen.

Layers, later wins: built-in defaults < the YAML file (`--config`, or `LEFTOVERS_CONFIG`) <
environment variables < command-line flags. Environment variables are `LEFTOVERS_<KEY>`, with
`__` between nested keys (`LEFTOVERS_SERVICE__LISTEN`); values are read as YAML scalars, and the
list keys (`regions`, `resource_types`, `accounts`) also take comma-separated text.

Every invalid value raises `SettingsError` with one line naming where the value came from, the
key and the reason.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scanner.errors import SettingsError
from scanner.ignore import IgnoreRule, parse_ignore_rules
from scanner.settings_file import (
    MAX_LOOKBACK_DAYS,
    FileModel,
    OrganizationModel,
    StreamStrategy,
)
from scanner.trail_settings import AthenaSettings, TrailBucketSettings

ENV_PREFIX = "LEFTOVERS_"
CONFIG_ENV = "LEFTOVERS_CONFIG"
_LIST_KEYS = ("regions", "resource_types", "accounts")
#: Keys whose command-line flag is not simply `--<key>`.
_FLAG_NAMES = {
    "regions": "--region",
    "accounts": "--account",
    "resource_types": "--types",
    "user_name": "--user",
    "deadline_seconds": "--deadline",
    "service.listen": "--listen",
    "service.state_path": "--state",
    "service.interval_seconds": "--interval",
    "athena.organization_id": "--organization-id",
    "athena.database": "--database",
    "athena.table": "--table",
}


# ---------------------------------------------------------------- the runtime model (frozen)


@dataclass(frozen=True, slots=True)
class AccountTarget:
    """One account to scan: its id (None: whatever the current credentials are) and a role."""

    account_id: str | None
    role_arn: str | None = None


@dataclass(frozen=True, slots=True)
class AccountSelection:
    """Which accounts: the current credentials, an explicit list, or every organization account."""

    targets: tuple[AccountTarget, ...] = (AccountTarget(None),)
    organization_role: str | None = None


@dataclass(frozen=True, slots=True)
class RetrySettings:
    """Backoff for throttled, 5xx, connection failures and calls with no answer in time (our
    own; botocore's is off)."""

    attempts: int = 6
    base_delay_seconds: float = 0.5
    max_delay_seconds: float = 20.0
    call_timeout_seconds: float = 20.0


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """What the long-running service uses."""

    listen: str = "127.0.0.1:9100"
    state_path: str = "state/leftovers.db"
    interval_seconds: int = 3600
    overlap_minutes: int = 15
    bearer_token: str | None = None
    deleted_retention_days: int = 180


@dataclass(frozen=True, slots=True)
class Settings:
    """Validated, frozen settings. `regions`/`resource_types` None means all."""

    accounts: AccountSelection = AccountSelection()
    regions: tuple[str, ...] | None = None
    lookback_days: int = MAX_LOOKBACK_DAYS
    resource_types: tuple[str, ...] | None = None
    user_name: str | None = None
    endpoint_url: str | None = None
    rate: float = 2.0
    burst: int = 1
    stream_strategy: StreamStrategy = "auto"
    concurrency: int = 16
    deadline_seconds: float | None = None  # per account-region and scan (None: none)
    #: Trail-log files larger than this once decompressed are refused (MiB).
    max_file_mb: int = 512
    retry: RetrySettings = RetrySettings()
    #: Check each leftover live (scanner/verify); the service re-checks those whose last
    #: check is older than `verify_max_age_seconds`.
    verify: bool = False
    verify_max_age_seconds: int = 6 * 3600
    service: ServiceSettings = ServiceSettings()
    trail_bucket: TrailBucketSettings = field(default_factory=TrailBucketSettings)
    athena: AthenaSettings = field(default_factory=AthenaSettings)
    log_level: str = "info"
    #: The price file `leftovers prices refresh` writes and scans prefer (None: beside the state).
    prices_path: str | None = None
    ignore: tuple[IgnoreRule, ...] = ()
    #: The dotted keys the file, the environment or the flags set (not part of equality).
    given: frozenset[str] = field(default=frozenset(), compare=False)

    def is_set(self, key: str) -> bool:
        """Whether `key` (dotted) was given a value, rather than left at its default."""
        return key in self.given

    @property
    def price_file(self) -> Path:
        """Where the refreshed price file is: `prices_path`, else `prices.yaml` beside the state
        file."""
        if self.prices_path is not None:
            return Path(self.prices_path)
        return Path(self.service.state_path).with_name("prices.yaml")


# ---------------------------------------------------------------- loading


def load_settings(
    path: Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, object] | None = None,
) -> Settings:
    """Read the file (if any), apply env overrides then flags (dotted keys), validate, freeze."""
    env = os.environ if env is None else env
    origins: dict[tuple[str, ...], str] = {}
    data: dict[str, Any] = {}
    if path is None and env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
    if path is not None:
        data = _read_file(path)
        for key in _leaf_paths(data):
            origins[key] = str(path)
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        key = tuple(part.lower() for part in name[len(ENV_PREFIX) :].split("__"))
        _assign(data, key, _env_value(key, raw), origins, name)
    for dotted, value in (flags or {}).items():
        if value is None:
            continue
        key = tuple(dotted.split("."))
        flag = _FLAG_NAMES.get(dotted, "--" + dotted.replace("_", "-"))
        _assign(data, key, value, origins, flag)
    _refuse_blank_token(data, origins)
    try:
        model = FileModel.model_validate(data)
    except ValidationError as error:
        raise SettingsError(_one_line(error, origins)) from None
    ignore = parse_ignore_rules(model.ignore, origins.get(("ignore",), "settings"))
    return replace(_freeze(model), ignore=ignore, given=frozenset(".".join(key) for key in origins))


def _refuse_blank_token(data: Mapping[str, Any], origins: Mapping[tuple[str, ...], str]) -> None:
    """A bearer token set to blank text would turn authentication off without a word: refuse it."""
    service = data.get("service")
    token = service.get("bearer_token") if isinstance(service, Mapping) else None
    if isinstance(token, str) and not token.strip():
        origin = origins.get(("service", "bearer_token"), "settings")
        raise SettingsError(
            f"{origin}: service.bearer_token: is set but blank: give a token of 16 characters "
            "or more, or unset it to serve without authentication"
        )


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(f"{path}: cannot read ({error.strerror or error})") from None
    except UnicodeDecodeError as error:
        raise SettingsError(
            f"{path}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
            f"{error.start}): save it as UTF-8"
        ) from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise SettingsError(f"{path}: not valid YAML{where}: {problem}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise SettingsError(f"{path}: the top level must be a mapping of keys to values")
    return loaded


def _leaf_paths(data: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    for key, value in data.items():
        here = (*prefix, str(key))
        paths.append(here)
        if isinstance(value, Mapping):
            paths.extend(_leaf_paths(value, here))
    return paths


def _env_value(key: tuple[str, ...], raw: str) -> object:
    text = raw.strip()
    if key == ("service", "bearer_token"):
        return text  # a secret is text, never YAML (and blank is refused, not "unset")
    if key == ("accounts",) and text not in ("", "current") and not text.startswith(("[", "{")):
        return [_account_from_text(item) for item in text.split(",") if item.strip()]
    if key[-1] in _LIST_KEYS and "," in text and not text.startswith("["):
        return [item.strip() for item in text.split(",") if item.strip()]
    if key[-1] in ("regions", "resource_types") and text not in ("all", "") and "[" not in text:
        return [text]
    try:
        return yaml.safe_load(text) if text else None
    except yaml.YAMLError:
        return raw


def _account_from_text(item: str) -> dict[str, str]:
    """`ID` or `ID=ROLE_ARN` (environment and flags)."""
    account_id, _, role = item.strip().partition("=")
    return {"id": account_id, "role_arn": role} if role else {"id": account_id}


def accounts_from_flags(values: list[str]) -> list[dict[str, str]]:
    """Turn repeated `--account ID[=ROLE_ARN]` flags into account entries."""
    return [_account_from_text(value) for value in values]


def _assign(
    data: dict[str, Any],
    key: tuple[str, ...],
    value: object,
    origins: dict[tuple[str, ...], str],
    origin: str,
) -> None:
    node = data
    for part in key[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[key[-1]] = value
    for known in [k for k in origins if k[: len(key)] == key]:
        del origins[known]
    origins[key] = origin


def _one_line(error: ValidationError, origins: Mapping[tuple[str, ...], str]) -> str:
    # In a union, the deepest location is the branch the value was meant for; an empty list
    # was meant for the list branch.
    first = max(error.errors(), key=lambda e: (len(e["loc"]), e["type"] == "too_short"))
    loc = [str(part) for part in first["loc"]]
    # Union branches add their type names to the location; keep only the real keys.
    keys = [p for p in loc if not _is_union_tag(p)]
    origin = "settings"
    for size in range(len(keys), 0, -1):
        if tuple(keys[:size]) in origins:
            origin = origins[tuple(keys[:size])]
            break
    dotted = ".".join(keys) or "(top level)"
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key"
    elif first["type"] == "string_pattern_mismatch" and keys and keys[-1] in _PATTERN_REASONS:
        message = f"{first['input']!r} {_PATTERN_REASONS[keys[-1]]}"
    elif first["type"] == "too_short" and first.get("input") == []:
        message = "is empty: give at least one value"
    elif "input" in first and first["input"] is None:
        message = "is empty: give a value"
    elif first["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    elif first["type"] == "literal_error" and "input" in first:
        message = f"{first['input']!r} is not allowed: {message.lower()}"
    return f"{origin}: {dotted}: {message}"


_PATTERN_REASONS = {
    "id": "is not a 12-digit AWS account id",
    "role_arn": "is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
    "listen": "is not HOST:PORT",
    "endpoint_url": "is not an http(s) URL",
    "url": "is not s3://BUCKET[/PREFIX]",
    "output_location": "is not s3://BUCKET[/PREFIX]",
    "organization_id": "is not an organization id (o-...)",
}


def _is_union_tag(part: str) -> bool:
    return (
        part.endswith("Model")
        or part.startswith(("literal[", "list["))
        or part in ("function-after[_regions(), list[str]]",)
    )


def _freeze(model: FileModel) -> Settings:
    if model.accounts == "current":
        accounts = AccountSelection()
    elif isinstance(model.accounts, OrganizationModel):
        accounts = AccountSelection(
            targets=(), organization_role=model.accounts.organization.role_name
        )
    else:
        accounts = AccountSelection(
            targets=tuple(AccountTarget(a.id, a.role_arn) for a in model.accounts)
        )
    return Settings(
        accounts=accounts,
        regions=None if model.regions == "all" else tuple(dict.fromkeys(model.regions)),
        lookback_days=model.lookback_days,
        resource_types=(
            None if model.resource_types == "all" else tuple(dict.fromkeys(model.resource_types))
        ),
        user_name=model.user_name,
        endpoint_url=model.endpoint_url,
        rate=model.rate,
        burst=model.burst,
        stream_strategy=model.stream_strategy,
        concurrency=model.concurrency,
        deadline_seconds=model.deadline_seconds,
        max_file_mb=model.max_file_mb,
        retry=RetrySettings(**model.retry.model_dump()),
        verify=model.verify,
        verify_max_age_seconds=model.verify_max_age_seconds,
        service=ServiceSettings(**model.service.model_dump()),
        trail_bucket=TrailBucketSettings(**model.trail_bucket.model_dump()),
        athena=AthenaSettings(**model.athena.model_dump()),
        log_level=model.log_level,
        prices_path=model.prices_path,
    )
