"""One TLS context for every AWS client of the process, instead of one per client.

aiobotocore's HTTP session builds an `ssl.SSLContext` and loads the CA bundle into it when its
client sends its first request: about 20 ms of CPU per client, on the event loop. A scan opens a
client per (account, region), hundreds for an organization, and their first calls all start at
once, so those loads would delay every region's first page by their sum. The context holds no
per-client state (same CA bundle, no client certificate, no proxy), so it is built once per CA
bundle and shared; any other case (a proxy, a client certificate, verification off) is left to
aiobotocore as it is.
"""

from __future__ import annotations

import ssl
from functools import cache
from typing import Any

import aiohttp
from aiobotocore.httpsession import AIOHTTPSession
from botocore.httpsession import create_urllib3_context, get_cert_path


@cache
def shared_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The context aiobotocore would build for a client verifying against `ca_bundle`."""
    context: ssl.SSLContext = create_urllib3_context()
    if ca_bundle:
        context.load_verify_locations(ca_bundle, None, None)
    return context


class SharedTlsSession(AIOHTTPSession):
    """aiobotocore's aiohttp session (`AioConfig(http_session_cls=...)`), sharing its TLS context
    with every other client's."""

    def _create_connector(self, proxy_url: str | None) -> aiohttp.TCPConnector:
        # What AIOHTTPSession.__init__ stored (private to aiobotocore, pinned in uv.lock;
        # tests/sources/test_tls.py checks both paths against the installed version).
        state: dict[str, Any] = vars(self)
        verify = state["_verify"]
        if proxy_url or state["_cert_file"] or not verify:
            connector: aiohttp.TCPConnector = super()._create_connector(proxy_url)  # type: ignore[misc]
            return connector
        return aiohttp.TCPConnector(
            limit=state["_max_pool_connections"],
            ssl=shared_context(get_cert_path(verify)),
            **state["_connector_args"],
        )
