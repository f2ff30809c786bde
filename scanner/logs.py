"""structlog set up once: JSON off a terminal, console on one, credentials redacted everywhere."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

REDACTED = "[redacted]"

#: Keys whose values are never logged.
_SECRET_KEY = re.compile(
    r"secret|token|password|passwd|credential|authorization|session_?key|access_?key|private_?key",
    re.IGNORECASE,
)
#: Credential-looking text inside values: access key ids, Authorization headers, key=value pairs.
_SECRET_TEXT = (
    re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA)[A-Z0-9]{12,}\b"),
    re.compile(r"(?i)\b(authorization\s*[:=]\s*)(?:bearer\s+|aws4-hmac-sha256\s+)?[^\s,;]+[^\n]*"),
    re.compile(
        r"(?i)\b((?:aws_)?(?:secret_access_key|session_token|secret|token|password)"
        r"[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]+"
    ),
)

_NOISY_LOGGERS = ("botocore", "aiobotocore", "aioboto3", "boto3", "urllib3", "s3transfer")


def _redact_text(text: str) -> str:
    text = _SECRET_TEXT[0].sub(REDACTED, text)
    text = _SECRET_TEXT[1].sub(lambda m: m.group(1) + REDACTED, text)
    return _SECRET_TEXT[2].sub(lambda m: m.group(1) + REDACTED, text)


def _redact(value: Any, depth: int = 0) -> Any:
    if depth > 8:
        return value
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, Mapping):
        return {
            k: REDACTED if _SECRET_KEY.search(str(k)) else _redact(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return type(value)(_redact(v, depth + 1) for v in value)
    return value


def redact_credentials(
    logger: object, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: replace credential-like keys and values with `[redacted]`."""
    del logger, method_name
    for key in list(event_dict):
        if _SECRET_KEY.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


class _CurrentStderr:
    """Whatever `sys.stderr` is at the time of writing (tests swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure(level: str = "info", stream: TextIO | None = None, json: bool | None = None) -> None:
    """Configure structlog and the standard loggers once; JSON unless `stream` is a terminal.

    Without `stream`, logs go to whatever `sys.stderr` is when each line is written.
    """
    target: Any = stream if stream is not None else _CurrentStderr()
    if json is None:
        json = not target.isatty()
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=target.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_credentials,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(target),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=target)
    quiet_aws_loggers()


def quiet_aws_loggers() -> None:
    """Keep botocore and friends at WARNING or above: their DEBUG output holds credentials."""
    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    """A logger bound to a component name."""
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(component=name)
    return logger
