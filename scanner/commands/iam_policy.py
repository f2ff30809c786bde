"""`leftovers iam-policy`: the least-privilege IAM policy the settings and catalog need."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import orjson

from scanner.catalog import Catalog, load_catalog
from scanner.settings import Settings, load_settings

#: The module of `leftovers prices` (a price book refresh from the AWS Price List API); when it
#: is installed, the policy grants `pricing:GetProducts` in a statement of its own.
PRICES_COMMAND = "scanner.commands.prices"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `leftovers iam-policy`."""
    parser.epilog = (
        "The policy for the identity the scanner runs as; roles it assumes in other accounts "
        "need the same statements but sts:AssumeRole and organizations:ListAccounts."
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="YAML settings file")
    parser.add_argument(
        "--types", nargs="+", action="extend", metavar="TYPE", help="resource types (default all)"
    )


def _one_or_list(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _statement(sid: str, actions: list[str], resources: tuple[str, ...] = ("*",)) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": _one_or_list(actions),
        "Resource": _one_or_list(list(resources)),
    }


def policy(settings: Settings, catalog: Catalog, *, prices: bool) -> dict[str, Any]:
    """The policy document: CloudTrail, then each optional part the settings use, then the
    verification calls of the catalog's types, then the price refresh where it exists."""
    statements = [_statement("ReadCloudTrailEventHistory", ["cloudtrail:LookupEvents"])]
    accounts = settings.accounts
    roles = sorted({t.role_arn for t in accounts.targets if t.role_arn})
    if accounts.organization_role is not None:
        roles.append(f"arn:aws:iam::*:role/{accounts.organization_role}")
        statements.append(_statement("ListOrganizationAccounts", ["organizations:ListAccounts"]))
    if roles:
        statements.append(_statement("AssumeScannerRoles", ["sts:AssumeRole"], tuple(roles)))
    if settings.regions is None:
        statements.append(_statement("ListEnabledRegions", ["ec2:DescribeRegions"]))
    checks = sorted({t.verify.action for t in catalog.types.values() if t.verify is not None})
    if checks:
        statements.append(_statement("VerifyLeftoversStillExist", checks))
    if prices:
        statements.append(_statement("RefreshPriceBook", ["pricing:GetProducts"]))
    return {"Version": "2012-10-17", "Statement": statements}


def prices_command_exists() -> bool:
    """Whether `leftovers prices` is part of this installation."""
    return importlib.util.find_spec(PRICES_COMMAND) is not None


def run(args: argparse.Namespace) -> int:
    """Print the policy as JSON."""
    flags: dict[str, object] = {}
    if args.types:
        flags["resource_types"] = [t for value in args.types for t in value.split(",") if t]
    settings = load_settings(args.config, os.environ, flags)
    catalog = load_catalog().select(settings.resource_types)
    document = policy(settings, catalog, prices=prices_command_exists())
    sys.stdout.buffer.write(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return 0
