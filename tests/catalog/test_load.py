"""Loading the catalog: clear errors for bad files, selection, prices and console URLs."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.catalog import (
    DEFAULT_PATH,
    HOURS_PER_MONTH,
    catalog_files,
    load_catalog,
    parse_catalog,
)
from scanner.errors import CatalogError
from scanner.lifecycle import ResourceKey

#: Every catalog file's types in one file's form.
RAW: dict[str, Any] = {
    "version": 1,
    "types": {
        name: entry
        for path in catalog_files()
        for name, entry in yaml.safe_load(path.read_text())["types"].items()
    },
}
CATALOG = load_catalog()


def broken(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(RAW)
    change(data)
    return data


def rule(data: dict[str, Any], type_name: str, event: str) -> dict[str, Any]:
    return next(r for r in data["types"][type_name]["rules"] if r["event"] == event)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: rule(d, "ec2.volume", "DeleteVolume").pop("id"), r"ec2\.volume\.rules\[1\]\.id"),
        (
            lambda d: rule(d, "ec2.volume", "DeleteVolume").update(id="requestParameters.[["),
            r"ec2\.volume\.rules\[1\] \(DeleteVolume\)\.id: invalid JMESPath",
        ),
        (
            lambda d: rule(d, "ec2.instance", "RunInstances")["attributes"].update(x="a.["),
            r"ec2\.instance\.rules\[0\] \(RunInstances\)\.attributes\.x: invalid JMESPath",
        ),
        (
            lambda d: rule(d, "ec2.instance", "StopInstances").pop("state"),
            r"ec2\.instance\.rules\[2\].*needs `state`",
        ),
        (
            lambda d: rule(d, "ec2.instance", "StopInstances").update(change="explode"),
            r"ec2\.instance\.rules\[2\]\.change",
        ),
        (
            lambda d: d["types"]["eks.cluster"].update(normalise=["upper"]),
            r"eks\.cluster\.normalise: unknown normalise step 'upper'",
        ),
        (
            lambda d: d["types"]["eks.cluster"].update(console_url="https://x/{nope}"),
            r"eks\.cluster\.console_url: cannot format",
        ),
        (
            lambda d: d["types"]["ec2.instance"]["price"].update(table="missing"),
            r"ec2\.instance\.price\.table: no price table 'missing' in the price book",
        ),
        (
            lambda d: d["types"]["s3.bucket"].update(colour="blue"),
            r"types\.s3\.bucket\.colour: Extra inputs are not permitted",
        ),
        (
            lambda d: d["types"]["s3.bucket"].update(event_source="s3"),
            r"types\.s3\.bucket\.event_source",
        ),
        (
            lambda d: d["types"]["s3.bucket"]["rules"].append(
                {"event": "CreateBucket", "change": "create", "id": "x"}
            ),
            r"s3\.bucket\.rules: event CreateBucket appears twice",
        ),
        (lambda d: d.update(version=2), r"^catalog: version"),
    ],
)
def test_invalid_catalog_names_the_entry_and_field(change: Any, expected: str) -> None:
    with pytest.raises(CatalogError, match=expected):
        parse_catalog(broken(change))


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(CatalogError, match=r"missing\.yaml: cannot read"):
        load_catalog(missing)
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("version: 1\ntypes: [unclosed\n")
    with pytest.raises(CatalogError) as raised:
        load_catalog(bad_yaml)
    message = str(raised.value)
    assert message.startswith(f"{bad_yaml}: not valid YAML at line 3: ")
    assert "\n" not in message
    bad_entry = tmp_path / "entry.yaml"
    bad_entry.write_text(
        yaml.safe_dump(broken(lambda d: rule(d, "ec2.volume", "DeleteVolume").pop("id")))
    )
    with pytest.raises(CatalogError, match=r"entry\.yaml: types\.ec2\.volume\.rules\[1\]\.id"):
        load_catalog(bad_entry)
    not_a_mapping = tmp_path / "list.yaml"
    not_a_mapping.write_text("- 1\n")
    with pytest.raises(CatalogError, match=r"list\.yaml"):
        load_catalog(not_a_mapping)


def test_one_file_or_a_folder_of_them_loads_the_same(tmp_path: Path) -> None:
    one_file = tmp_path / "catalog.yaml"
    one_file.write_text(yaml.safe_dump(RAW))
    assert load_catalog(one_file).types.keys() == CATALOG.types.keys()
    assert load_catalog(one_file).event_names == CATALOG.event_names
    folder = tmp_path / "types"
    folder.mkdir()
    for path in catalog_files():
        (folder / path.name).write_text(path.read_text())
    assert load_catalog(folder).types.keys() == CATALOG.types.keys()
    assert load_catalog(DEFAULT_PATH).events == CATALOG.events


def test_a_type_in_two_files_and_an_empty_folder_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text((DEFAULT_PATH / "ec2.yaml").read_text())
    (tmp_path / "b.yaml").write_text((DEFAULT_PATH / "ec2.yaml").read_text())
    with pytest.raises(CatalogError, match=r"b\.yaml: types\.ec2\.\w+: also defined in .*a\.yaml"):
        load_catalog(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CatalogError, match=r"no catalog files"):
        load_catalog(empty)


def test_select_keeps_only_the_named_types() -> None:
    subset = CATALOG.select(["ec2.instance", "rds.db_instance"])
    assert list(subset.types) == ["ec2.instance", "rds.db_instance"]
    assert subset.watches("ec2.amazonaws.com", "RunInstances")
    assert not subset.watches("ec2.amazonaws.com", "CreateVolume")
    assert "CreateHostedZone" not in subset.event_names
    assert CATALOG.select(None) is CATALOG
    with pytest.raises(
        CatalogError,
        match=r"unknown resource type\(s\) ec2\.nope \(did you mean ec2\.\w+.*\?\); `leftovers",
    ):
        CATALOG.select(["ec2.instance", "ec2.nope"])


def test_catalog_is_frozen() -> None:
    with pytest.raises(TypeError):
        CATALOG.types["x"] = CATALOG.types["ec2.instance"]  # type: ignore[index]  # read-only on purpose
    with pytest.raises(AttributeError):
        CATALOG.types["ec2.instance"].title = "x"  # type: ignore[misc]  # frozen on purpose


@pytest.mark.parametrize(
    ("type_name", "attributes", "expected"),
    [
        ("ec2.instance", {"instance_type": "t2.micro"}, 0.0116),
        ("ec2.instance", {"instance_type": "m5.large"}, 0.096),
        ("ec2.instance", {"instance_type": "x9.unknown"}, None),
        ("ec2.instance", {}, None),
        ("ec2.volume", {"size_gb": "100", "volume_type": "gp3"}, 100 * 0.08 / HOURS_PER_MONTH),
        ("ec2.volume", {"size_gb": "100"}, 100 * 0.10 / HOURS_PER_MONTH),
        ("ec2.volume", {"volume_type": "gp3"}, None),
        ("ec2.snapshot", {"size_gb": "10"}, 10 * 0.05 / HOURS_PER_MONTH),
        ("ec2.snapshot", {}, None),
        ("ec2.elastic_ip", {}, 0.005),
        ("ec2.nat_gateway", {}, 0.045),
        ("elbv2.load_balancer", {"lb_type": "application"}, 0.0225),
        ("elbv2.load_balancer", {"lb_type": "network"}, 0.0225),
        ("rds.db_instance", {"db_class": "db.r5.large"}, 0.25),
        ("rds.db_instance", {"db_class": "db.t3.micro"}, 0.017),
        ("rds.db_cluster", {"engine": "aurora-postgresql"}, None),
        ("eks.cluster", {}, 0.10),
        ("efs.file_system", {}, None),
        ("s3.bucket", {}, None),
        ("route53.hosted_zone", {}, 0.50 / HOURS_PER_MONTH),
    ],
)
def test_hourly_cost_estimates(
    type_name: str, attributes: dict[str, str], expected: float | None
) -> None:
    cost = CATALOG.types[type_name].hourly_cost(attributes)
    if expected is None:
        assert cost is None
    else:
        assert cost == pytest.approx(expected)


def test_console_urls_of_the_original_script() -> None:
    instance = ResourceKey("123456789012", "us-east-1", "ec2.instance", "i-09cb3fb50d2910206")
    assert CATALOG.types["ec2.instance"].console_url(instance, None, None) == (
        "https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1"
        "#InstanceDetails:instanceId=i-09cb3fb50d2910206"
    )
    db = ResourceKey("123456789012", "us-east-1", "rds.db_instance", "database-1-instance-1")
    assert CATALOG.types["rds.db_instance"].console_url(db, None, None) == (
        "https://us-east-1.console.aws.amazon.com/rds/home?region=us-east-1"
        "#database:id=database-1-instance-1;is-cluster=false"
    )
    arn = "arn:aws:elasticloadbalancing:eu-west-1:1:loadbalancer/app/x/1"
    lb = ResourceKey("1", "eu-west-1", "elbv2.load_balancer", arn)
    assert (
        CATALOG.types["elbv2.load_balancer"]
        .console_url(lb, arn, "x")
        .endswith(f"#LoadBalancer:loadBalancerArn={arn}")
    )
