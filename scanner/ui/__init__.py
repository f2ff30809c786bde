"""The web pages for people (`/`, `/leftovers`, one resource): server-side HTML over the snapshot.

`add_pages` registers them on the service's app; `page_denial` is the pages' own access check
(Basic or a session cookie when a token is set), where the JSON API asks for a bearer token.
"""

from __future__ import annotations

from aiohttp import web

from scanner.ui import handlers
from scanner.ui.auth import denial as page_denial
from scanner.ui.handlers import PAGES, Pages, Source
from scanner.ui.listpage import Parse
from scanner.ui.render import STATIC, secure

__all__ = ["PUBLIC_PAGES", "Source", "add_pages", "is_page", "is_public_page", "page_denial"]

#: Open without the token: the login form and the stylesheet and script it uses.
PUBLIC_PAGES = ("/login", "/logout", "/static", "/favicon.ico")
_PAGE_PREFIXES = ("/leftovers", *PUBLIC_PAGES)


def is_page(path: str) -> bool:
    """A path answered by the pages (HTML, and their JSON and CSV downloads)."""
    return path == "/" or path.startswith(_PAGE_PREFIXES)


def is_public_page(path: str) -> bool:
    return path.startswith(PUBLIC_PAGES)


async def _static_headers(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith(("/static/", "/favicon.ico")):
        secure(response)
        response.headers["Cache-Control"] = "public, max-age=86400"


def add_pages(
    app: web.Application,
    source: Source,
    parse: Parse,
    bad: type[Exception],
    filters: tuple[str, ...],
) -> None:
    """Register the pages; `parse` reads filters as `/results` does, raising `bad`."""
    app[PAGES] = Pages(source, parse, bad, filters)
    router = app.router
    router.add_get("/", handlers.overview_page)
    router.add_get("/leftovers", handlers.list_page)
    router.add_get("/leftovers.json", handlers.list_json)
    router.add_get("/leftovers.csv", handlers.list_csv)
    router.add_get(
        "/leftovers/{account_id}/{region}/{resource_type}/{resource_id:.+}",
        handlers.resource_page,
    )
    router.add_get("/login", handlers.login_form)
    router.add_post("/login", handlers.login)
    router.add_post("/logout", handlers.logout)
    router.add_static("/static/", STATIC, append_version=False)
    router.add_get("/favicon.ico", handlers.favicon)
    app.on_response_prepare.append(_static_headers)
