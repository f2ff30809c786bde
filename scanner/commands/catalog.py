"""`leftovers catalog`: list the resource types the scanner knows."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No options yet."""
    del parser


def run(args: argparse.Namespace) -> int:
    """Print the catalog."""
    del args
    raise NotImplementedError
