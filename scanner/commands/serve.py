"""`leftovers serve`: scan on a schedule into the state file and answer HTTP until SIGTERM."""

from __future__ import annotations

import argparse
import ipaddress
import signal
from functools import partial
from pathlib import Path

import anyio

from scanner import logs
from scanner.catalog import load_catalog, load_preferred_prices
from scanner.cleanup_plan import delete_command
from scanner.errors import SettingsError
from scanner.metrics import build_registry
from scanner.runner import freeze_start_up
from scanner.service import Service
from scanner.settings import Settings, load_settings
from scanner.sources.aws import AwsClients
from scanner.store import Store
from scanner.web import Context, create_app, serve_http

#: How long shutdown may take before it is cut short (the store stays consistent regardless).
SHUTDOWN_SECONDS = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags override the config file and the environment."""
    parser.add_argument("--config", type=Path, metavar="FILE", help="YAML settings file")
    parser.add_argument("--endpoint-url", metavar="URL", help="send AWS calls here (emulator)")
    parser.add_argument(
        "--region",
        action="append",
        dest="regions",
        metavar="R",
        help="region to scan (repeatable; default: every enabled region)",
    )
    parser.add_argument(
        "--listen", metavar="HOST:PORT", help="HTTP address (default 127.0.0.1:9100)"
    )
    parser.add_argument("--state", metavar="PATH", help="SQLite state file")
    parser.add_argument(
        "--interval", type=int, metavar="SECONDS", help="time between incremental scans"
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """The settings: file < environment < flags."""
    return load_settings(
        args.config,
        flags={
            "endpoint_url": args.endpoint_url,
            "regions": args.regions,
            "service.listen": args.listen,
            "service.state_path": args.state,
            "service.interval_seconds": args.interval,
        },
    )


def split_listen(listen: str) -> tuple[str, int]:
    """HOST:PORT -> (host, port); an empty host means every interface."""
    host, _, port = listen.rpartition(":")
    number = int(port)
    if not 0 <= number <= 65535:
        raise SettingsError(f"service.listen: port {number} is out of range")
    return host or "0.0.0.0", number  # noqa: S104 (an empty host asks for every interface)


def beyond_loopback(host: str) -> bool:
    """True when `host` (as given to `--listen`) is reachable from other machines."""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: whatever it resolves to, assume the worst
        return True


def service_url(host: str, port: int) -> str:
    """The URL to open for an address the service listens on."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 (every interface: this machine answers too)
        host = "127.0.0.1"
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


async def serve(settings: Settings) -> None:
    """Open the store, serve HTTP, scan on schedule; stop cleanly on SIGTERM or SIGINT."""
    log = logs.get_logger("serve")
    catalog = load_catalog(prices=load_preferred_prices(settings.price_file)).select(
        settings.resource_types
    )
    freeze_start_up()
    host, port = split_listen(settings.service.listen)
    state = Path(settings.service.state_path)
    state.parent.mkdir(parents=True, exist_ok=True)
    store = await Store.open(state)
    clients = AwsClients()  # sessions and clients kept from scan to scan
    service = Service(settings, store, catalog, clients=clients)
    runner = None
    try:
        await service.refresh()
        context = Context(
            current=service.snapshot,
            store=store,
            registry=build_registry(service.snapshot),
            token=settings.service.bearer_token,
            interval_seconds=settings.service.interval_seconds,
            resource_types=tuple(catalog.types),
            readiness=service.readiness,
            delete_command=partial(delete_command, catalog=catalog),
        )
        try:
            runner = await serve_http(create_app(context), host, port)
        except OSError as error:
            raise SettingsError(
                f"service.listen: cannot listen on {settings.service.listen}: {error.strerror}"
            ) from None
        token = settings.service.bearer_token
        log.info(
            "service_started",
            url=service_url(host, runner.addresses[0][1]),
            auth="bearer token" if token else "off",
            listen=[f"{a[0]}:{a[1]}" for a in runner.addresses],
            state=str(state),
            interval_seconds=settings.service.interval_seconds,
            resumed_snapshot=service.snapshot() is not None,
        )
        if token is None and beyond_loopback(host):
            log.warning(
                "service_unauthenticated",
                listen=settings.service.listen,
                hint="anyone who reaches this address reads /results and /metrics: set "
                "service.bearer_token (LEFTOVERS_SERVICE__BEARER_TOKEN), or listen on 127.0.0.1",
            )
        async with anyio.create_task_group() as group:
            group.start_soon(service.run_scans)
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for signum in signals:
                    log.info("service_stopping", signal=signal.Signals(signum).name)
                    group.cancel_scope.cancel()
                    break
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(SHUTDOWN_SECONDS):
            if runner is not None:
                await runner.cleanup()
            await clients.aclose()
            await store.close()
            log.info("service_stopped")


def run(args: argparse.Namespace) -> int:
    """Run the service until SIGTERM or Ctrl-C."""
    settings = settings_from(args)
    logs.configure(settings.log_level)
    anyio.run(serve, settings)
    return 0
