"""structlog set up once: JSON off a terminal, console on one, credentials redacted everywhere."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from aiohttp.http_exceptions import HttpProcessingError

from scanner.errors import one_line

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

_HANDLER_NAME = "leftovers"
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


class _ClientErrors(logging.Filter):
    """aiohttp logs a malformed request as an ERROR with a traceback; it is the client's error:
    one `bad_request` line at INFO with the status, the reason and the peer, or nothing below."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if not (isinstance(error, HttpProcessingError) and 400 <= error.code < 500):
            return True
        if self.level > logging.INFO:
            return False
        peer = record.args[0] if isinstance(record.args, tuple) and record.args else None
        record.levelno, record.levelname = logging.INFO, "INFO"
        record.msg, record.args = "bad_request", ()
        record.exc_info, record.exc_text = None, None
        record.status = error.code
        record.reason = error.message.strip().splitlines()[0].rstrip(":") if error.message else ""
        record.peer = peer
        return True


def _one_line_error(
    logger: Any, method_name: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """A library's line (botocore refreshing credentials, say) names its error in one line
    instead of carrying a traceback: a failure the scan reports is not a crash."""
    del logger, method_name
    exc_info = event_dict.pop("exc_info", None)
    error = exc_info[1] if isinstance(exc_info, tuple) else None
    if isinstance(error, BaseException):
        event_dict["error"] = one_line(error)
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
    chain: list[structlog.typing.Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            *chain,
            structlog.processors.format_exc_info,
            redact_credentials,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(target),
        cache_logger_on_first_use=True,
    )
    _route_standard_logging(target, numeric, chain, renderer)
    quiet_aws_loggers()


def _route_standard_logging(
    target: Any,
    level: int,
    chain: list[structlog.typing.Processor],
    renderer: structlog.typing.Processor,
) -> None:
    """Lines from the standard `logging` module (aiohttp, botocore) in the same format."""
    handler = logging.StreamHandler(target)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                *chain,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
                _one_line_error,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_credentials,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(max(level, logging.WARNING))
    server = logging.getLogger("aiohttp.server")
    for old_filter in [f for f in server.filters if isinstance(f, _ClientErrors)]:
        server.removeFilter(old_filter)
    server.addFilter(_ClientErrors(level))


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
