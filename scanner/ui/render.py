"""Templates to responses: the Jinja2 environment (autoescaped), formats, and security headers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined

from scanner.ui.overview import duration_text

STATIC = Path(str(files("scanner.ui") / "static"))

#: Same origin only, no inline script or style: every script and stylesheet is a static file.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _versions() -> dict[str, str]:
    """A short hash of each static file, appended to its URL so a new version is fetched."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:10]
        for path in STATIC.iterdir()
        if path.is_file()
    }


_VERSIONS = _versions()


def static_url(name: str) -> str:
    return f"/static/{name}?v={_VERSIONS.get(name, '0')}"


def cost_text(value: float | None) -> str:
    """USD: whole dollars from 100, cents from 1, three decimals below; `?` when unknown."""
    if value is None:
        return "?"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if value >= 1 else f"{value:.3f}"


def stamp(value: datetime | None) -> str:
    return "never" if value is None else f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"


def age_text(seconds: float | None) -> str:
    return "never" if seconds is None else duration_text(seconds)


def path_of(*segments: str) -> str:
    """A path of URL-quoted segments: every segment escaped, `/` inside one included."""
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


def with_query(path: str, pairs: Iterable[tuple[str, str]]) -> str:
    query = urlencode(list(pairs))
    return f"{path}?{query}" if query else path


def safe_href(url: str | None) -> str | None:
    """An external link only when it is https (a console URL), else none."""
    return url if url and url.startswith("https://") else None


def _environment() -> Environment:
    environment = Environment(
        loader=PackageLoader("scanner.ui", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(static_url=static_url, path_of=path_of, safe_href=safe_href)
    environment.filters.update(cost=cost_text, stamp=stamp, age=age_text)
    return environment


ENVIRONMENT = _environment()


def secure(response: web.StreamResponse) -> web.StreamResponse:
    """Add the pages' security headers."""
    response.headers.update(SECURITY_HEADERS)
    return response


def render(template: str, status: int = 200, **context: Any) -> web.Response:
    """A template as an HTML response with the security headers."""
    body = ENVIRONMENT.get_template(template).render(**context)
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    secure(response)
    return response
