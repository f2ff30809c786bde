"""Load the catalog files: parse, validate, compile, price; any problem is a CatalogError."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

import jmespath.exceptions
from pydantic import ValidationError

from scanner.catalog.cleanup import Cleanup
from scanner.catalog.expressions import Expression, compile_expression
from scanner.catalog.model import CatalogFile, PriceModel, RuleModel, TypeModel, VerifyModel
from scanner.catalog.prices import PriceBook, RegionalRate, RegionalTable, load_prices
from scanner.catalog.runtime import Catalog, Price, ResourceType, Rule, normaliser
from scanner.catalog.verification import TEMPLATE_FIELDS, Verification
from scanner.catalog.yamlfile import read_yaml
from scanner.errors import CatalogError
from scanner.lifecycle import Change

#: The catalog shipped with the package: one file per service or family of services.
DEFAULT_PATH = Path(__file__).with_name("types")

_CHANGES = {
    "create": Change.CREATE,
    "delete": Change.DELETE,
    "state": Change.STATE,
    "rename": Change.CREATE,
    "tag": Change.CREATE,
    "untag": Change.DELETE,
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
        when=_compile_optional(f"{where}.when", rule.when),
        when_text=rule.when,
        api=rule.api or model.api or _default_api(model),
        created_via=tuple(
            (parent, _compile(f"{where}.created_via.{parent}", text))
            for parent, text in rule.created_via.items()
        ),
        proof=rule.proof,
        tags=_compile_optional(f"{where}.tags", rule.tags),
        is_tagging=rule.change in ("tag", "untag"),
    )


_HOURLY_UNITS = ("hour", "month")


_Priced = TypeVar("_Priced", RegionalRate, RegionalTable)


def _priced(
    where: str,
    book: PriceBook,
    name: str,
    *,
    kind: str,
    entries: Mapping[str, _Priced],
    units: tuple[str, ...],
) -> _Priced:
    """A rate or table of the price book, by name, in one of the units the price needs."""
    found = entries.get(name)
    if found is None:
        raise CatalogError(
            f"{where}: no {kind} {name!r} in the price book {book.path} "
            f"(known: {', '.join(sorted(entries)) or 'none'})"
        )
    if found.unit not in units:
        raise CatalogError(f"{where}: {kind} {name!r} is per {found.unit}, not per {units[0]}")
    return found


def _rate(where: str, book: PriceBook, name: str, units: tuple[str, ...]) -> RegionalRate:
    return _priced(where, book, name, kind="rate", entries=book.rates, units=units)


def _table(where: str, book: PriceBook, name: str, units: tuple[str, ...]) -> RegionalTable:
    return _priced(where, book, name, kind="price table", entries=book.tables, units=units)


def _price(type_name: str, model: PriceModel | None, book: PriceBook) -> Price | None:
    if model is None:
        return None
    where = f"types.{type_name}.price"
    return Price(
        hourly=(
            _rate(f"{where}.hourly", book, model.hourly, _HOURLY_UNITS) if model.hourly else None
        ),
        free=model.free,
        by=model.by,
        table=_table(f"{where}.table", book, model.table, _HOURLY_UNITS) if model.table else None,
        per_unit=tuple(
            (attribute, _rate(f"{where}.per_unit.{attribute}", book, name, _HOURLY_UNITS))
            for attribute, name in sorted(model.per_unit.items())
        ),
        count=model.count,
        size=model.size,
        per_gb_month=(
            _rate(f"{where}.per_gb_month", book, model.per_gb_month, ("gb_month",))
            if model.per_gb_month
            else None
        ),
        per_gb_month_by=model.per_gb_month_by,
        per_gb_month_table=(
            _table(f"{where}.per_gb_month_table", book, model.per_gb_month_table, ("gb_month",))
            if model.per_gb_month_table
            else None
        ),
        note=model.note,
    )


def _verification(name: str, model: VerifyModel | None, api: str) -> Verification | None:
    if model is None:
        return None
    where = f"types.{name}.verify"
    sample: dict[str, object] = {**dict.fromkeys(TEMPLATE_FIELDS, "x"), "part": ["x"] * 8}
    for param, template in model.params.items():
        for part in [template] if isinstance(template, str) else template:
            try:
                part.format_map(sample)
            except (KeyError, IndexError, ValueError) as error:
                raise CatalogError(
                    f"{where}.params.{param}: cannot format {part!r} ({error!r}); "
                    f"fields: {', '.join('{' + key + '}' for key in TEMPLATE_FIELDS)}"
                ) from None
    return Verification(
        api=model.api or api,
        call=model.call,
        ids=model.ids,
        batch=model.batch,
        params=tuple(
            (param, template if isinstance(template, str) else tuple(template))
            for param, template in sorted(model.params.items())
        ),
        items=_compile_optional(f"{where}.items", model.items),
        id=_compile_optional(f"{where}.id", model.id),
        state=_compile_optional(f"{where}.state", model.state),
        tags=_compile_optional(f"{where}.tags", model.tags),
        gone=frozenset(model.gone),
        gone_states=frozenset(state.lower() for state in model.gone_states),
        texts=(model.items, model.id, model.state, model.tags),
    )


def _default_api(model: TypeModel) -> str:
    return model.event_source.split(".", 1)[0]


def _resource_type(name: str, model: TypeModel, book: PriceBook) -> ResourceType:
    try:
        model.console_url.format(**_URL_FIELDS)
    except (KeyError, IndexError, ValueError) as error:
        raise CatalogError(
            f"types.{name}.console_url: cannot format {model.console_url!r} ({error!r}); "
            f"fields: {', '.join('{' + key + '}' for key in _URL_FIELDS)}"
        ) from None
    api = model.api or _default_api(model)
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
        api=api,
        is_global=model.is_global,
        default_state=model.default_state,
        title=model.title,
        display=tuple(model.display),
        console_url_template=model.console_url,
        rules=rules,
        price=_price(name, model.price, book),
        normalise=rules[0].normalise,
        cleanup=None if model.cleanup is None else Cleanup.of(model.cleanup),
        verify=_verification(name, model.verify, api),
    )


def _file_model(data: object, source: str) -> CatalogFile:
    try:
        return CatalogFile.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise CatalogError(
            f"{source}: {_location(tuple(first['loc']))}: {first['msg']}{more}"
        ) from None


def _build(files: list[tuple[str, CatalogFile]], book: PriceBook) -> Catalog:
    types: list[ResourceType] = []
    where_defined: dict[str, str] = {}
    regions = {file.global_region for _, file in files}
    if len(regions) > 1:
        raise CatalogError(f"catalog files disagree on global_region: {', '.join(sorted(regions))}")
    for source, file in files:
        for name, model in file.types.items():
            if name in where_defined:
                raise CatalogError(f"{source}: types.{name}: also defined in {where_defined[name]}")
            where_defined[name] = source
            try:
                types.append(_resource_type(name, model, book))
            except CatalogError as error:
                raise CatalogError(f"{source}: {error}") from None
    known = {resource_type.name for resource_type in types}
    for resource_type in types:
        cleanup = resource_type.cleanup
        for later in cleanup.before if cleanup is not None else ():
            if later not in known:
                raise CatalogError(
                    f"{where_defined[resource_type.name]}: types.{resource_type.name}.cleanup."
                    f"before: {later!r} is not a type of the catalog"
                )
    return Catalog.of(types, regions.pop() if regions else "us-east-1", book)


def parse_catalog(
    data: object, source: str = "catalog", prices: PriceBook | None = None
) -> Catalog:
    """Build a catalog from one file's parsed YAML data; any problem raises CatalogError naming
    the place. Prices come from `prices` (default: the bundled price book)."""
    book = load_prices() if prices is None else prices
    return _build([(source, _file_model(data, source))], book)


def catalog_files(path: Path | None = None) -> list[Path]:
    """The catalog's files: `path` itself, or every `*.yaml` in it when it is a folder."""
    path = DEFAULT_PATH if path is None else path
    return sorted(path.glob("*.yaml")) if path.is_dir() else [path]


def load_catalog(path: Path | None = None, prices: PriceBook | None = None) -> Catalog:
    """Load a catalog file, or a folder of them (default: the packaged scanner/catalog/types),
    priced from `prices` (default: the bundled price book)."""
    book = load_prices() if prices is None else prices
    files = catalog_files(path)
    if not files:
        raise CatalogError(f"{path}: no catalog files (*.yaml)")
    return _build([(str(file), _file_model(read_yaml(file), str(file))) for file in files], book)
