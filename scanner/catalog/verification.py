"""A type's verification: the one read-only call that proves one of its resources still exists."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scanner.catalog.expressions import Expression

#: The fields a parameter template may use; `part` is the id split at `/` (`{part[1]}`).
TEMPLATE_FIELDS = ("id", "arn", "name", "region", "account_id", "part")


@dataclass(frozen=True, slots=True)
class Verification:
    """How to ask AWS whether a resource is still there (see `VerifyModel` for the file form).

    `api` and `call` are botocore's service and operation names (`ec2`, `DescribeInstances`);
    `ids` names a list parameter taking up to `batch` ids, else `params` are formatted per
    resource. `items` yields the resources an answer holds, `id` maps them back to the ids asked,
    `state` and `tags` read each one.
    """

    api: str
    call: str
    ids: str | None = None
    batch: int = 1
    params: tuple[tuple[str, str | tuple[str, ...]], ...] = ()
    items: Expression | None = field(default=None, repr=False, compare=False)
    id: Expression | None = field(default=None, repr=False, compare=False)
    state: Expression | None = field(default=None, repr=False, compare=False)
    tags: Expression | None = field(default=None, repr=False, compare=False)
    gone: frozenset[str] = frozenset()
    gone_states: frozenset[str] = frozenset()
    #: The expressions as written: items, id, state, tags.
    texts: tuple[str | None, str | None, str | None, str | None] = (None, None, None, None)

    @property
    def action(self) -> str:
        """The IAM action this call needs (`ec2:DescribeInstances`)."""
        if self.api == "apigateway":  # API Gateway's actions are its HTTP methods
            return "apigateway:GET"
        return f"{iam_prefix(self.api)}:{self.call}"

    def request(self, fields: Mapping[str, object]) -> dict[str, object]:
        """The parameters of a one-resource call, formatted from `fields` (TEMPLATE_FIELDS)."""
        built: dict[str, object] = {}
        for name, template in self.params:
            if isinstance(template, tuple):
                built[name] = [part.format_map(fields) for part in template]
            else:
                built[name] = template.format_map(fields)
        return built

    def batch_request(self, ids: Sequence[str]) -> dict[str, object]:
        """The parameters of a call for many ids at once (`ids` names the list parameter)."""
        assert self.ids is not None, "a batched call needs the name of its list parameter"
        return {self.ids: list(ids)}


#: botocore service names whose IAM action prefix differs.
_IAM_PREFIXES = {
    "elbv2": "elasticloadbalancing",
    "elb": "elasticloadbalancing",
    "efs": "elasticfilesystem",
    "opensearch": "es",
    "emr": "elasticmapreduce",
    "kinesisanalyticsv2": "kinesisanalytics",
    "mwaa": "airflow",
    "pinpoint-sms-voice-v2": "sms-voice",
    "amp": "aps",
    "sesv2": "ses",
    "docdb": "rds",  # DocumentDB and Neptune are managed through RDS's actions
    "neptune": "rds",
}


def iam_prefix(api: str) -> str:
    """The IAM service prefix of a botocore service name."""
    return _IAM_PREFIXES.get(api, api)
