"""Load resources.yaml: parse, validate, compile, and report any problem as a CatalogError."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

import jmespath.exceptions
import yaml
from pydantic import ValidationError

from scanner.catalog.expressions import Expression, compile_expression
from scanner.catalog.model import CatalogFile, PriceModel, RuleModel, TypeModel
from scanner.catalog.runtime import Catalog, Price, ResourceType, Rule, normaliser
from scanner.errors import CatalogError
from scanner.lifecycle import Change

#: The catalog shipped with the package.
DEFAULT_PATH = Path(__file__).with_name("resources.yaml")

_CHANGES = {
    "create": Change.CREATE,
    "delete": Change.DELETE,
    "state": Change.STATE,
    "rename": Change.CREATE,
}
_URL_FIELDS = {"region": "r", "account_id": "a", "id": "i", "arn": "n", "name": "m"}


def _location(parts: tuple[int | str, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(file)"


def _compile(where: str, text: str) -> Expression:
    try:
        return compile_expression(text)
    except jmespath.exceptions.JMESPathError as error:
        raise CatalogError(f"{where}: invalid JMESPath {text!r} ({error})") from None


def _compile_optional(where: str, text: str | None) -> Expression | None:
    return None if text is None else _compile(where, text)


def _compile_map(where: str, expressions: Mapping[str, str]) -> tuple[tuple[str, Expression], ...]:
    return tuple(
        (name, _compile(f"{where}.{name}", text)) for name, text in sorted(expressions.items())
    )


def _rule(type_name: str, model: TypeModel, index: int, rule: RuleModel) -> Rule:
    where = f"types.{type_name}.rules[{index}] ({rule.event})"
    try:
        normalise = normaliser(model.normalise)
    except ValueError as error:
        raise CatalogError(f"types.{type_name}.normalise: {error}") from None
    return Rule(
        resource_type=type_name,
        event_source=model.event_source,
        event_name=rule.event,
        change=_CHANGES[rule.change],
        id_text=rule.id,
        id=_compile(f"{where}.id", rule.id),
        normalise=normalise,
        items=_compile_optional(f"{where}.items", rule.items),
        items_text=rule.items,
        new_id=_compile_optional(f"{where}.new_id", rule.new_id),
        new_id_text=rule.new_id,
        state=rule.state,
        name=_compile_optional(f"{where}.name", rule.name),
        arn=_compile_optional(f"{where}.arn", rule.arn),
        attributes=_compile_map(f"{where}.attributes", rule.attributes),
        record_name=_compile_optional(f"{where}.record_name", rule.record_name),
        record_attributes=_compile_map(f"{where}.record_attributes", rule.record_attributes),
        is_rename=rule.change == "rename",
    )


def _price(
    type_name: str, model: PriceModel | None, tables: Mapping[str, Mapping[str, float]]
) -> Price | None:
    if model is None:
        return None
    for label, table_name in (
        ("table", model.table),
        ("per_gb_month_table", model.per_gb_month_table),
    ):
        if table_name is not None and table_name not in tables:
            raise CatalogError(
                f"types.{type_name}.price.{label}: no price table {table_name!r} "
                f"(known: {', '.join(sorted(tables)) or 'none'})"
            )
    return Price(
        hourly=(model.hourly or 0.0) + (model.monthly or 0.0) / 730.0,
        by=model.by,
        table=MappingProxyType(dict(tables[model.table])) if model.table else MappingProxyType({}),
        size=model.size,
        per_gb_month=model.per_gb_month,
        per_gb_month_by=model.per_gb_month_by,
        per_gb_month_table=(
            MappingProxyType(dict(tables[model.per_gb_month_table]))
            if model.per_gb_month_table
            else MappingProxyType({})
        ),
        note=model.note,
    )


def _resource_type(name: str, model: TypeModel, file: CatalogFile) -> ResourceType:
    try:
        model.console_url.format(**_URL_FIELDS)
    except (KeyError, IndexError, ValueError) as error:
        raise CatalogError(
            f"types.{name}.console_url: cannot format {model.console_url!r} ({error!r}); "
            f"fields: {', '.join('{' + key + '}' for key in _URL_FIELDS)}"
        ) from None
    rules = tuple(_rule(name, model, index, rule) for index, rule in enumerate(model.rules))
    seen: set[str] = set()
    for rule in rules:
        if rule.event_name in seen:
            raise CatalogError(f"types.{name}.rules: event {rule.event_name} appears twice")
        seen.add(rule.event_name)
    return ResourceType(
        name=name,
        service=model.service,
        event_source=model.event_source,
        is_global=model.is_global,
        default_state=model.default_state,
        title=model.title,
        display=tuple(model.display),
        console_url_template=model.console_url,
        rules=rules,
        price=_price(name, model.price, file.price_tables),
        normalise=rules[0].normalise,
    )


def parse_catalog(data: object, source: str = "catalog") -> Catalog:
    """Build a catalog from parsed YAML data; any problem raises CatalogError naming the place."""
    try:
        file = CatalogFile.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise CatalogError(
            f"{source}: {_location(tuple(first['loc']))}: {first['msg']}{more}"
        ) from None
    types = [_resource_type(name, model, file) for name, model in file.types.items()]
    return Catalog.of(types, file.global_region)


def load_catalog(path: Path | None = None) -> Catalog:
    """Load a catalog file (default: the packaged resources.yaml)."""
    path = DEFAULT_PATH if path is None else path
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CatalogError(f"{path}: cannot read ({error.strerror or error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise CatalogError(f"{path}: not valid YAML{where}: {problem}") from None
    try:
        return parse_catalog(data, str(path))
    except CatalogError as error:
        message = str(error)
        if not message.startswith(str(path)):
            message = f"{path}: {message}"
        raise CatalogError(message) from None
