"""Every AWS client shares one TLS context, built as aiobotocore builds its own."""

from __future__ import annotations

import ssl

from aiobotocore.httpsession import AIOHTTPSession

from scanner.sources.aws import client_config
from scanner.sources.tls import SharedTlsSession


def _context(session: AIOHTTPSession) -> ssl.SSLContext | bool:
    # aiobotocore's private method, which its stubs leave out
    connector = session._create_connector(None)  # type: ignore[attr-defined]
    context: ssl.SSLContext | bool = connector._ssl
    return context


async def test_clients_share_one_context_with_aiobotocores_settings() -> None:
    first = _context(SharedTlsSession(max_pool_connections=3))
    second = _context(SharedTlsSession(max_pool_connections=7))
    theirs = _context(AIOHTTPSession())
    assert isinstance(first, ssl.SSLContext)
    assert isinstance(theirs, ssl.SSLContext)
    assert first is second
    assert first is not theirs
    assert first.verify_mode == theirs.verify_mode == ssl.CERT_REQUIRED
    assert first.check_hostname == theirs.check_hostname
    assert first.options == theirs.options
    assert first.minimum_version == theirs.minimum_version
    assert first.cert_store_stats() == theirs.cert_store_stats()
    assert first.cert_store_stats()["x509_ca"] > 0


async def test_the_pool_size_and_connector_arguments_are_kept() -> None:
    session = SharedTlsSession(max_pool_connections=5, connector_args={"keepalive_timeout": 3})
    connector = session._create_connector(None)
    assert connector.limit == 5
    assert connector._keepalive_timeout == 3


async def test_other_cases_are_left_to_aiobotocore() -> None:
    assert _context(SharedTlsSession(verify=False)) is False
    proxied = SharedTlsSession(proxies={"https": "http://proxy.invalid:3128"})
    connector = proxied._create_connector("http://proxy.invalid:3128")
    theirs = AIOHTTPSession(proxies={"https": "http://proxy.invalid:3128"})
    # aiobotocore's private method, which its stubs leave out
    their_connector = theirs._create_connector("http://proxy.invalid:3128")  # type: ignore[attr-defined]
    assert connector._ssl == their_connector._ssl


def test_the_scanners_clients_use_it() -> None:
    # AioConfig keeps its keyword arguments as attributes, which its stubs leave out
    assert client_config().http_session_cls is SharedTlsSession  # type: ignore[attr-defined]
