"""moto's server mode on a loopback port, and boto3 clients that reach it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import boto3
import botocore.session

from tests.moto_server import REGION
from tests.moto_server import moto_server as serving_moto


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
    with serving_moto() as endpoint_url:
        yield Moto(endpoint_url)
