"""moto's server mode on a loopback port, and boto3 clients that reach it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import boto3
import botocore.session
from moto.server import ThreadedMotoServer

#: moto's default account: the CloudTrail history is written for it.
MOTO_ACCOUNT = "123456789012"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class Moto:
    """A running moto server and a cache of boto3 clients to it."""

    endpoint_url: str
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, api: str) -> Any:
        if api not in self._clients:
            self._clients[api] = cast(Any, boto3).client(
                api,
                region_name=REGION,
                endpoint_url=self.endpoint_url,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[api]


def endpoint_variable(api: str) -> str:
    """botocore's `AWS_ENDPOINT_URL_<SERVICE>` variable for a service."""
    service_id = botocore.session.get_session().get_service_model(api).service_id
    return "AWS_ENDPOINT_URL_" + str(service_id).replace(" ", "_").upper()


def moto_server() -> Iterator[Moto]:
    """Start moto on a free loopback port, yield it, stop it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield Moto(f"http://{host}:{port}")
    finally:
        server.stop()
