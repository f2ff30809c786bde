"""Who may see the pages when `service.bearer_token` is set: Basic or a signed session cookie.

A browser answers the pages' 401 with its own Basic prompt (any user name, the token as the
password); the same 401 carries a small login form that sets a session cookie instead (HttpOnly,
SameSite=Strict, signed with the token: changing the token ends every session). Forms are
posted same-origin only. The JSON API is not concerned: it keeps `Authorization: Bearer`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from urllib.parse import urlsplit

from aiohttp import web

from scanner.ui.render import render

COOKIE = "leftovers_session"
SESSION_SECONDS = 12 * 3600


def _signature(token: str, expires: int) -> str:
    digest = hmac.new(
        token.encode(), f"leftovers-session:{expires}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def session_value(token: str, now: float) -> str:
    """A cookie value good for SESSION_SECONDS: its expiry and a signature of it."""
    expires = int(now) + SESSION_SECONDS
    return f"{expires}.{_signature(token, expires)}"


def valid_session(value: str, token: str, now: float) -> bool:
    expires, _, signature = value.partition(".")
    if not expires.isdigit() or int(expires) < now:
        return False
    return hmac.compare_digest(signature.encode(), _signature(token, int(expires)).encode())


def _basic_password(header: str) -> str | None:
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(credential.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2]


def authorised(request: web.Request, token: str) -> bool:
    """The session cookie, Basic with the token as password, or the API's bearer token."""
    cookie = request.cookies.get(COOKIE)
    if cookie and valid_session(cookie, token, time.time()):
        return True
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    given = credential.strip() if scheme.lower() == "bearer" else _basic_password(header)
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


def local_path(target: str | None) -> str:
    """Where to go after logging in: a path on this site, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def same_origin(request: web.Request) -> bool:
    """A form post from our own pages: the browser's Origin (or Sec-Fetch-Site) says so.
    Clients that send neither (not a browser) cannot be led by another site."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in {"same-origin", "none"}:
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.netloc == request.host and parts.scheme == request.scheme


def login_page(status: int, target: str | None, message: str | None = None) -> web.Response:
    """The login form; a 401 also asks for Basic credentials (the browser's own prompt)."""
    response = render(
        "login.html", status=status, next=local_path(target), message=message, signed_in=False
    )
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="leftovers", charset="UTF-8"'
    return response


def redirect(target: str) -> web.Response:
    """A 303 to a path of ours."""
    return web.Response(status=303, headers={"Location": local_path(target)})


def denial(request: web.Request, token: str | None) -> web.Response | None:
    """None when the pages may be shown, else the 401 login page."""
    if not token or authorised(request, token):
        return None
    return login_page(401, request.path_qs)


def _set_cookie(response: web.StreamResponse, request: web.Request, value: str, age: int) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=age,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


async def login(request: web.Request, token: str | None) -> web.StreamResponse:
    """POST /login: a same-origin form with the token sets the session cookie."""
    if not same_origin(request):
        return render("error.html", status=403, message="cross-site form posts are refused")
    form = await request.post()
    target = local_path(str(form.get("next") or "/"))
    if token is None:
        return redirect(target)
    given = str(form.get("token") or "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        return login_page(403, target, "That is not the service's token.")
    response = redirect(target)
    _set_cookie(response, request, session_value(token, time.time()), SESSION_SECONDS)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    """POST /logout: forget the session cookie."""
    if not same_origin(request):
        return render("error.html", status=403, message="cross-site form posts are refused")
    response = redirect("/login")
    _set_cookie(response, request, "", 0)
    return response
