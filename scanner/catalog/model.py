"""The catalog files' schema (pydantic, used only while loading scanner/catalog/types/*.yaml)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scanner.catalog.cleanup import CleanupModel


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleModel(_Strict):
    """One (eventSource, eventName) rule of a resource type, as written in the file.

    Expressions are JMESPath. With `items`, the expression yields the list (or single object) of
    resources the event names, and `id`, `name`, `arn` and `attributes` are evaluated on each item;
    `record_name` and `record_attributes` are evaluated on the whole record as fallbacks. Without
    `items` every expression is evaluated on the record, and `id` may yield one string or a list.
    """

    event: str = Field(min_length=1)
    change: Literal["create", "delete", "state", "rename", "tag", "untag"]
    id: str = Field(min_length=1)
    items: str | None = None
    new_id: str | None = None
    state: str | None = None
    name: str | None = None
    arn: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    record_name: str | None = None
    record_attributes: dict[str, str] = Field(default_factory=dict)
    when: str | None = None
    api: str | None = None  # botocore's API of this event, when not the type's
    created_via: dict[str, str] = Field(default_factory=dict)
    proof: Literal["real record", "model only"] = "model only"
    #: The tags the event sets: a list of {Key, Value} (any casing) or a map; `untag` rules give
    #: a list of keys (or of {Key}) that the event removes.
    tags: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RuleModel:
        if self.change == "state" and not self.state:
            raise ValueError("a state rule needs `state` (the state it sets)")
        if self.change != "state" and self.state and self.change != "create":
            raise ValueError("`state` is only for state and create rules")
        if (self.change == "rename") != (self.new_id is not None):
            raise ValueError("`new_id` is required for rename rules and only for them")
        if self.items is None and (self.record_name or self.record_attributes):
            raise ValueError("`record_name`/`record_attributes` need `items`")
        if self.change in ("tag", "untag") and self.tags is None:
            raise ValueError("tag and untag rules need `tags`")
        return self


class PriceModel(_Strict):
    """What a type costs idle, by names of the price book's rates and tables; every part that
    applies is added up: `hourly` (a rate per hour or month) or `free`, `by` + `table` (a price
    per class), `per_unit` (attribute -> rate per unit), all times `count`, and `size` GB times
    `per_gb_month` (or a table of them)."""

    hourly: str | None = None
    free: bool = False
    by: str | None = None
    table: str | None = None
    per_unit: dict[str, str] = Field(default_factory=dict)
    count: str | None = None
    size: str | None = None
    per_gb_month: str | None = None
    per_gb_month_table: str | None = None
    per_gb_month_by: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> PriceModel:
        if (self.by is None) != (self.table is None):
            raise ValueError("`by` and `table` go together")
        has_rate = self.per_gb_month is not None or self.per_gb_month_table is not None
        if (self.size is None) != (not has_rate):
            raise ValueError("`size` needs `per_gb_month` or `per_gb_month_table`, and back")
        if (self.per_gb_month_table is None) != (self.per_gb_month_by is None):
            raise ValueError("`per_gb_month_table` and `per_gb_month_by` go together")
        if not (self.free or self.hourly or self.table or self.size or self.per_unit):
            raise ValueError("a price needs `hourly`, `table`, `per_unit`, `size` or `free`")
        return self


class VerifyModel(_Strict):
    """The one read-only call that proves a resource still exists, as written in the file.

    `call` is botocore's operation name (Describe*, Get*, List*) on `api` (default: the type's).
    Either `ids` names a list parameter that takes many ids (`batch` at a time), or `params`
    maps parameter names to templates of `{id}`, `{arn}`, `{name}`, `{region}`, `{account_id}`
    (a one-element list template `["{id}"]` for list parameters; `{part[N]}` is the N-th part
    of an id made of `/`-joined parts). `items` (JMESPath on the answer) yields the resources
    found; `id` (on each item) maps them back to the ids asked. `state`
    and `tags` are read on each item; a state in `gone_states` (terminated, deleted) or an
    error code in `gone` means the resource is gone.
    """

    call: str = Field(pattern=r"^(Describe|Get|List)[A-Za-z0-9]+$")
    api: str | None = None
    ids: str | None = None
    batch: int = Field(default=1, ge=1, le=1000)
    params: dict[str, str | list[str]] = Field(default_factory=dict)
    items: str | None = None
    id: str | None = None
    state: str | None = None
    tags: str | None = None
    gone: list[str] = Field(default_factory=list)
    gone_states: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> VerifyModel:
        if (self.ids is None) == (not self.params):
            raise ValueError("give either `ids` (a list parameter) or `params`, not both")
        if self.ids is not None and (self.items is None or self.id is None):
            raise ValueError("`ids` needs `items` and `id` to map the answer back to the ids")
        if self.ids is None and self.batch != 1:
            raise ValueError("`batch` is only for `ids`")
        if (self.state or self.tags or self.gone_states) and self.items is None:
            raise ValueError("`state`, `tags` and `gone_states` are read on `items`")
        if not self.gone and not self.gone_states and self.items is None:
            raise ValueError("a verification needs `gone` codes, `gone_states` or `items`")
        return self


class TypeModel(_Strict):
    """One resource type, as written in the file."""

    service: str = Field(min_length=1)
    #: botocore's name of the service's API (default: the event source's first label).
    api: str | None = None
    event_source: str = Field(pattern=r"^[a-z0-9.-]+\.amazonaws\.com$")
    title: str = Field(min_length=1)
    cleanup: CleanupModel | None = None
    default_state: str = Field(min_length=1)
    is_global: bool = False
    display: list[str] = Field(default_factory=list)
    normalise: list[str] = Field(default_factory=list)
    console_url: str = Field(min_length=1)
    verify: VerifyModel | None = None
    price: PriceModel | None = None
    rules: list[RuleModel] = Field(min_length=1)


class CatalogFile(_Strict):
    """One catalog file (a service or a family of them)."""

    version: Literal[1]
    global_region: str = "us-east-1"
    types: dict[str, TypeModel] = Field(min_length=1)
