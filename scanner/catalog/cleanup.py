"""How a resource type is deleted: one botocore operation, declared as data in its catalog entry."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChoiceModel(_Strict):
    """An irreversible option the reviewer decides on: botocore parameter and value."""

    param: str = Field(min_length=1)
    value: str | bool = True
    note: str = Field(min_length=1)


class CleanupModel(_Strict):
    """`cleanup:` of a type in the catalog file.

    `operation` is botocore's operation of the type's API, `id` its parameter that takes the
    resource (`from`: the leftover's id, name or ARN); `params` are fixed parameters, `choices`
    irreversible options written commented out; `before` names types whose leftovers in the same
    account and region are deleted after this one's (NAT gateway before its Elastic IP).
    """

    operation: str = Field(pattern=r"^[A-Z][A-Za-z0-9]+$")
    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9]+$")
    source: str = Field(default="id", alias="from", pattern=r"^(id|name|arn)$")
    params: dict[str, str | bool | int] = Field(default_factory=dict)
    choices: list[ChoiceModel] = Field(default_factory=list)
    before: list[str] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Choice:
    """An irreversible option, written commented out (`{id}` in a value: the resource's id)."""

    param: str
    value: str | bool
    note: str


@dataclass(frozen=True, slots=True)
class Cleanup:
    """The delete call of a type: botocore names; the CLI's are derived from them."""

    operation: str
    id_param: str
    source: str = "id"
    params: tuple[tuple[str, str | bool | int], ...] = ()
    choices: tuple[Choice, ...] = ()
    before: tuple[str, ...] = ()

    @classmethod
    def of(cls, model: CleanupModel) -> Cleanup:
        return cls(
            operation=model.operation,
            id_param=model.id,
            source=model.source,
            params=tuple(sorted(model.params.items())),
            choices=tuple(Choice(c.param, c.value, c.note) for c in model.choices),
            before=tuple(model.before),
        )
