"""The `leftovers` command line: subcommands and exit status 0 (clean), 1 (leftovers), 2 (error)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from scanner import __version__
from scanner.errors import LeftoversError, printable

#: name -> (module implementing it, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "scan": ("scanner.commands.scan", "scan once and print the leftovers"),
    "serve": ("scanner.commands.serve", "run the scanner service (HTTP, metrics, schedule)"),
    "emulate": ("scanner.commands.emulate", "serve a CloudTrail and STS emulator"),
    "catalog": ("scanner.commands.catalog", "list the resource types the scanner knows"),
    "athena": ("scanner.commands.athena", "Athena over the trail bucket: `athena ddl`"),
    "prices": ("scanner.commands.prices", "refresh the price file from the AWS Price List API"),
    "plan": ("scanner.commands.plan", "write a reviewed cleanup plan: aws CLI deletes, never run"),
    "iam-policy": ("scanner.commands.iam_policy", "print the IAM policy the settings need"),
}

EXIT_OK = 0
EXIT_LEFTOVERS = 1
EXIT_ERROR = 2
#: What a shell reports for a process killed by SIGPIPE (`leftovers scan | head`).
EXIT_BROKEN_PIPE = 128 + 13


class Command(Protocol):
    """What a subcommand module provides."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(name: str) -> Command:
    return cast(Command, importlib.import_module(COMMANDS[name][0]))


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with `only`, import just that subcommand's module."""
    parser = argparse.ArgumentParser(
        prog="leftovers",
        description="Find AWS resources that were created and never deleted, from CloudTrail.",
    )
    parser.add_argument("--version", action="version", version=f"leftovers {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if only is None or name == only:
            _load(name).add_arguments(sub_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if a in COMMANDS), None)
    args = build_parser(only=chosen).parse_args(argv)
    try:
        return _load(args.command).run(args)
    except LeftoversError as error:
        print(f"leftovers: error: {printable(str(error))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("leftovers: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away: stop quietly, and keep the interpreter's final
        # flush of stdout from failing again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
