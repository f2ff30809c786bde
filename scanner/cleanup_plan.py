"""The reviewed cleanup plan: a shell script of aws CLI deletes for leftovers; never run here."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from itertools import groupby
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.model import OperationModel, ServiceModel

from scanner.catalog import Catalog
from scanner.catalog.cleanup import Cleanup

#: The variable a reviewer sets (to `yes`) before the script runs.
REVIEWED = "LEFTOVERS_REVIEWED"
#: The aws CLI's command for a botocore service, where the two differ.
CLI_SERVICES = {"s3": "s3api"}
_ACCOUNT = re.compile(r"^\d{12}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_PREAMBLE = f"""\
set -euo pipefail
if [[ "${{{REVIEWED}:-}}" != yes ]]; then
  echo "refusing to run: review every command of this plan, then set {REVIEWED}=yes" >&2
  exit 3
fi

# run dry|- COMMAND...: with LEFTOVERS_DRY_RUN set, commands whose API has a dry run run with
# --dry-run (AWS answers DryRunOperation where the delete would succeed), the others are skipped.
run() {{
  local kind="$1"
  shift
  if [[ -z "${{LEFTOVERS_DRY_RUN:-}}" ]]; then
    "$@"
  elif [[ "$kind" == dry ]]; then
    local out
    if out=$("$@" --dry-run 2>&1) || [[ "$out" == *DryRunOperation* ]]; then
      echo "dry run ok: $*" >&2
    else
      printf '%s\\n' "$out" >&2
      return 1
    fi
  else
    echo "skipped in a dry run (no --dry-run): $*" >&2
  fi
}}
"""


def quote(value: str) -> str:
    """One shell word for a value from AWS: `shlex.quote`, or bash's $'...' with control
    characters escaped when it has any (so that a newline never splits a reviewed line)."""
    if not _CONTROL.search(value):
        return shlex.quote(value)
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return "$'" + _CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", escaped) + "'"


def comment(text: str) -> str:
    """Text from AWS made safe for a `#` line: control characters (newlines) written as \\xNN."""
    return _CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", text)


@cache
def service_model(api: str) -> ServiceModel:
    """botocore's model of an API (loaded once)."""
    return botocore.session.get_session().get_service_model(api)


def operation_model(api: str, cleanup: Cleanup) -> OperationModel:
    return service_model(api).operation_model(cleanup.operation)


def cli_option(param: str) -> str:
    """The aws CLI's option for a botocore parameter (`DBInstanceIdentifier` ->
    `--db-instance-identifier`), as the CLI derives it."""
    return "--" + xform_name(param, "-")


def cli_words(api: str, cleanup: Cleanup) -> list[str]:
    """`ec2 terminate-instances`: the CLI's service and operation."""
    return [CLI_SERVICES.get(api, api), xform_name(cleanup.operation, "-")]


def _argument(param: str, value: str | bool | int, resource_id: str) -> list[str]:
    if value is True:
        return [cli_option(param)]
    if value is False:
        return ["--no-" + cli_option(param)[2:]]
    return [cli_option(param), quote(str(value).replace("{id}", resource_id))]


def order_types(names: Iterable[str], catalog: Catalog) -> list[str]:
    """The types in the order their deletes must run (a type before those it names in `before`),
    otherwise by name."""
    wanted = sorted(set(names))
    after: dict[str, set[str]] = {name: set() for name in wanted}
    for name in wanted:
        known = catalog.types.get(name)
        cleanup = known.cleanup if known is not None else None
        for later in cleanup.before if cleanup is not None else ():
            if later in after:
                after[later].add(name)
    ordered: list[str] = []
    while after:
        ready = sorted(name for name, needs in after.items() if not needs - set(ordered))
        ready = ready or sorted(after)[:1]  # a cycle: break it by name
        ordered.append(ready[0])
        del after[ready[0]]
    return ordered


def _outcome(item: Mapping[str, Any]) -> str | None:
    """The live verification's outcome of a leftover, when it has one."""
    value = item.get("verification")
    if isinstance(value, Mapping):
        value = value.get("outcome")
    return value if isinstance(value, str) else None


def _age(seconds: object) -> str:
    if not isinstance(seconds, int):
        return "?"
    days, rest = divmod(seconds, 86400)
    return f"{days}d {rest // 3600}h" if days else f"{rest // 3600}h {rest % 3600 // 60}m"


def _describe(item: Mapping[str, Any]) -> list[str]:
    creator = item.get("created_by") or {}
    owner = creator.get("user_name") or creator.get("arn") or "unknown"
    cost = item.get("estimated_hourly_cost")
    price = "unknown" if cost is None else f"${cost:.4f}/h (${cost * 730:.2f}/month)"
    name = item.get("name")
    return [
        f"# {item['resource_type']} {item['resource_id']}" + (f" ({name})" if name else ""),
        f"#   owner {owner}, age {_age(item.get('age_seconds'))}, estimated {price}",
        f"#   {item.get('console_url') or '-'}",
    ]


def _target(item: Mapping[str, Any], cleanup: Cleanup) -> str:
    """What the delete call names: the leftover's id, name or ARN, as the catalog says."""
    resource_id = str(item["resource_id"])
    source = {"id": resource_id, "name": item.get("name"), "arn": item.get("arn")}
    return str(source[cleanup.source] or resource_id)


def _choices(cleanup: Cleanup, target: str) -> list[str]:
    """The irreversible options, as commented choices."""
    return [
        comment(
            f"#   irreversible, add only if meant: "
            f"{' '.join(_argument(c.param, c.value, target))}  ({c.note})"
        )
        for c in cleanup.choices
    ]


def _call(api: str, cleanup: Cleanup, target: str) -> list[str]:
    """The aws CLI words of the delete call after the global options."""
    words = [*cli_words(api, cleanup), *_argument(cleanup.id_param, target, target)]
    for param, value in cleanup.params:
        words.extend(_argument(param, value, target))
    return words


def _command(item: Mapping[str, Any], api: str, cleanup: Cleanup) -> list[str]:
    members = operation_model(api, cleanup).input_shape
    target = _target(item, cleanup)
    account = item["account_id"]
    lines = [comment(line) for line in _describe(item)] + _choices(cleanup, target)
    words = [
        "run",
        "dry" if members is not None and "DryRun" in members.members else "-",
        "aws",
        f'${{PROFILE_{account}:+--profile "$PROFILE_{account}"}}',
        "--region",
        quote(str(item["region"])),
        *_call(api, cleanup, target),
    ]
    lines.append(" ".join(words))
    return lines


def delete_command(item: Mapping[str, Any], catalog: Catalog) -> str | None:
    """The aws CLI command that would delete one leftover (a report JSON item), after its
    irreversible choices as comments; None when its type declares none. Never run here."""
    resource_type = catalog.types.get(str(item.get("resource_type")))
    if resource_type is None or resource_type.cleanup is None:
        return None
    cleanup = resource_type.cleanup
    target = _target(item, cleanup)
    region = quote(str(item["region"]))
    words = ["aws", "--region", region, *_call(resource_type.api, cleanup, target)]
    return "\n".join([*_choices(cleanup, target), " ".join(words)])


def plannable(items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The leftovers a plan deletes: not `unknown` to the live verification, in an account whose
    id is twelve digits."""
    return [
        item
        for item in items
        if _outcome(item) != "unknown" and _ACCOUNT.match(str(item.get("account_id", "")))
    ]


def plan_script(
    items: Sequence[Mapping[str, Any]], catalog: Catalog, generated_at: datetime
) -> str:
    """The script deleting these leftovers (report JSON items), grouped by account and region,
    in the catalog's dependency order."""
    chosen = plannable(items)
    accounts = sorted({str(item["account_id"]) for item in chosen})
    lines = [
        "#!/usr/bin/env bash",
        f"# leftovers cleanup plan, {generated_at:%Y-%m-%d %H:%M} UTC: {len(chosen)} leftover(s)"
        f" in {len(accounts)} account(s). The scanner never runs it: review each command, then",
        f"#   {REVIEWED}=yes "
        + " ".join(f"PROFILE_{a}=<profile>" for a in accounts[:3])
        + (" ..." if len(accounts) > 3 else "")
        + " bash plan.sh",
        "# PROFILE_<account>: the aws CLI profile (or role) for that account; empty: the current",
        "# credentials. Left out: ignored leftovers and those the live check could not confirm.",
        _PREAMBLE,
    ]
    skipped = len(items) - len(chosen)
    if skipped:
        lines.append(f"# {skipped} leftover(s) left out: verification unknown or no account id.")
    key = lambda item: (str(item["account_id"]), str(item["region"]))  # noqa: E731
    for (account, region), group in groupby(sorted(chosen, key=key), key=key):
        rows = list(group)
        lines += ["", f"# ---- account {account}, region {comment(region)}"]
        lines.append(
            f': "${{PROFILE_{account}?set PROFILE_{account} to the profile for account '
            f'{account} (empty: the current credentials)}}"'
        )
        by_type = {t: [r for r in rows if r["resource_type"] == t] for t in _types(rows)}
        for type_name in order_types(by_type, catalog):
            resource_type = catalog.types.get(type_name)
            for item in sorted(by_type[type_name], key=lambda row: str(row["resource_id"])):
                lines.append("")
                if resource_type is None or resource_type.cleanup is None:
                    lines += [comment(line) for line in _describe(item)]
                    lines.append("#   no delete command is declared for this type: by hand")
                    continue
                lines += _command(item, resource_type.api, resource_type.cleanup)
    return "\n".join(lines) + "\n"


def _types(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted({str(row["resource_type"]) for row in rows})
