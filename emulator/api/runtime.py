"""The emulator as a Python object: its state (records, faults, limits) served on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from aiohttp import web

from emulator.api.server import build_app
from emulator.api.state import EmulatorState


@dataclass(frozen=True, slots=True)
class Running:
    """A running emulator: where to reach it."""

    emulator: Emulator
    host: str
    port: int

    @property
    def endpoint_url(self) -> str:
        """The URL to give boto3/aioboto3 (`endpoint_url`) or `AWS_ENDPOINT_URL`."""
        return f"http://{self.host}:{self.port}"

    def env(self, region: str = "us-east-1") -> dict[str, str]:
        """Environment variables that point AWS clients at the emulator (dummy keys)."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "AKIAEMULATOR00000000",
            "AWS_SECRET_ACCESS_KEY": "emulator-secret-key",
            "AWS_DEFAULT_REGION": region,
        }


class Emulator(EmulatorState):
    """CloudTrail LookupEvents, STS, Organizations and EC2 DescribeRegions over a history."""

    def app(self) -> web.Application:
        """The aiohttp application serving every emulated service."""
        return build_app(self)

    @contextlib.asynccontextmanager
    async def running(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[Running]:
        """Serve on loopback for the duration of the block (port 0: a free port)."""
        self._stopping = asyncio.Event()
        self.default_account  # noqa: B018 - settle the default account before serving
        self.history.build()
        runner = web.AppRunner(
            self.app(), access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1]
        try:
            yield Running(self, host, int(bound))
        finally:
            self._stopping.set()
            await runner.cleanup()

    @contextlib.contextmanager
    def in_thread(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[Running]:
        """Serve from a background thread (for boto3 and the aws CLI in sync tests)."""
        ready: list[Running] = []
        failed: list[BaseException] = []
        started = threading.Event()
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()

        async def serve() -> None:
            try:
                async with self.running(host, port) as running:
                    ready.append(running)
                    started.set()
                    await stop.wait()
            except BaseException as error:
                failed.append(error)
                started.set()
                raise

        def main() -> None:
            with contextlib.suppress(BaseException):
                loop.run_until_complete(serve())
            loop.close()

        thread = threading.Thread(target=main, name="emulator", daemon=True)
        thread.start()
        started.wait()
        if failed:
            thread.join()
            raise failed[0]
        try:
            yield ready[0]
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(timeout=10)
