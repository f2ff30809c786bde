"""Price List GetProducts: filters, aws_v1 product documents as JSON strings, bound NextTokens.

Products are served in the real response format (`PriceList` entries are JSON strings, per
botocore's model): `product` (productFamily, attributes, sku), `serviceCode`, and
`terms.OnDemand.<offer>.priceDimensions.<rate>.pricePerUnit.USD`. An entry given as text that is
not a JSON object matches every query, so clients can be tried against a broken answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from emulator.api.protocol import ApiError
from emulator.api.tokens import InvalidTokenError, TokenCodec

TARGET = "AWSPriceListService.GetProducts"
FILTER_TYPES = ("TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF")
MAX_RESULTS = 100
PUBLICATION = "2026-11-01T00:00:00Z"


def product_document(
    service: str,
    sku: str,
    family: str,
    attributes: Mapping[str, str],
    usd: str,
    *,
    unit: str = "Hrs",
) -> dict[str, Any]:
    """A product with one OnDemand price, shaped like the Price List's aws_v1 documents."""
    offer = "JRTCKXETXF"
    rate = f"{sku}.{offer}.6YS6EN2CT7"
    return {
        "product": {
            "productFamily": family,
            "attributes": {"servicecode": service, **attributes},
            "sku": sku,
        },
        "serviceCode": service,
        "terms": {
            "OnDemand": {
                f"{sku}.{offer}": {
                    "priceDimensions": {
                        rate: {
                            "unit": unit,
                            "endRange": "Inf",
                            "description": f"${usd} per {unit}",
                            "appliesTo": [],
                            "rateCode": rate,
                            "beginRange": "0",
                            "pricePerUnit": {"USD": usd},
                        }
                    },
                    "sku": sku,
                    "effectiveDate": PUBLICATION,
                    "offerTermCode": offer,
                    "termAttributes": {},
                }
            }
        },
        "version": "20261101000000",
        "publicationDate": PUBLICATION,
    }


def ec2_instance_product(region: str, instance_type: str, usd: str, sku: str) -> dict[str, Any]:
    """A Linux, shared-tenancy, on-demand EC2 instance product of one region."""
    attributes = {
        "instanceType": instance_type,
        "regionCode": region,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
        "licenseModel": "No License required",
        "usagetype": f"BoxUsage:{instance_type}",
        "operation": "RunInstances",
    }
    return product_document("AmazonEC2", sku, "Compute Instance", attributes, usd)


#: A few products, enough to refresh some figures in us-east-1 and eu-west-1.
DEFAULT_PRODUCTS: tuple[dict[str, Any], ...] = (
    ec2_instance_product("us-east-1", "t3.micro", "0.0104000000", "DEMOSKU0000000001"),
    ec2_instance_product("us-east-1", "m5.large", "0.0960000000", "DEMOSKU0000000002"),
    ec2_instance_product("eu-west-1", "t3.micro", "0.0114000000", "DEMOSKU0000000003"),
    product_document(
        "AmazonEC2",
        "DEMOSKU0000000004",
        "NAT Gateway",
        {"regionCode": "us-east-1", "usagetype": "NatGateway-Hours", "operation": "NatGateway"},
        "0.0450000000",
    ),
    product_document(
        "AmazonEC2",
        "DEMOSKU0000000005",
        "Storage",
        {"regionCode": "us-east-1", "volumeApiName": "gp3", "usagetype": "EBS:VolumeUsage.gp3"},
        "0.0800000000",
        unit="GB-Mo",
    ),
)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One product as served (its JSON text) and what filters look at (None: not inspectable)."""

    text: str
    service: str | None
    fields: Mapping[str, str]


def _entry(product: Mapping[str, Any] | str) -> _Entry:
    text = product if isinstance(product, str) else orjson.dumps(product).decode()
    try:
        document = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _Entry(text, None, {})
    described = document.get("product") if isinstance(document, dict) else None
    if not isinstance(described, dict):
        return _Entry(text, None, {})
    fields = {str(k): str(v) for k, v in (described.get("attributes") or {}).items()}
    fields.update(
        {k: str(described[k]) for k in ("productFamily", "sku") if described.get(k) is not None}
    )
    return _Entry(text, str(document.get("serviceCode", "")), fields)


def _invalid(message: str) -> ApiError:
    return ApiError(400, "InvalidParameterException", message)


def _filters(value: object) -> list[tuple[str, str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid("Filters must be a list")
    out = []
    for item in value:
        kind = item.get("Type") if isinstance(item, dict) else None
        field = item.get("Field") if isinstance(item, dict) else None
        text = item.get("Value") if isinstance(item, dict) else None
        if kind not in FILTER_TYPES:
            raise _invalid(f"Filter Type {kind!r} is not one of {', '.join(FILTER_TYPES)}")
        if not isinstance(field, str) or not field or not isinstance(text, str):
            raise _invalid("Each filter needs a Field and a Value")
        out.append((str(kind), field, text))
    return out


_TESTS: dict[str, Callable[[str, str], bool]] = {
    "TERM_MATCH": lambda have, value: have.casefold() == value.casefold(),
    "EQUALS": lambda have, value: have == value,
    "CONTAINS": lambda have, value: value in have,
    "ANY_OF": lambda have, value: have in value.split(","),
}


def _matches(entry: _Entry, kind: str, field: str, value: str) -> bool:
    if entry.service is None:
        return True
    have = entry.fields.get(field)
    if kind == "NONE_OF":
        return have is None or have not in value.split(",")
    return have is not None and _TESTS[kind](have, value)


class GetProducts:
    """Answers GetProducts from a product list."""

    def __init__(
        self, products: Iterable[Mapping[str, Any] | str], codec: TokenCodec | None = None
    ) -> None:
        self.entries = tuple(_entry(product) for product in products)
        self.codec = codec or TokenCodec()

    def answer(self, body: Mapping[str, Any]) -> bytes:
        """The response body; ApiError for a request the service would refuse."""
        service = body.get("ServiceCode")
        if not isinstance(service, str) or not service:
            raise _invalid("ServiceCode is required")
        version = body.get("FormatVersion", "aws_v1")
        if version != "aws_v1":
            raise _invalid(f"FormatVersion {version!r} is not supported: use aws_v1")
        filters = _filters(body.get("Filters"))
        size = body.get("MaxResults", MAX_RESULTS)
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_RESULTS:
            raise _invalid(f"MaxResults must be an integer between 1 and {MAX_RESULTS}")
        binding = orjson.dumps([service, filters])
        start = 0
        token = body.get("NextToken")
        if token is not None:
            try:
                start = self.codec.open(str(token), binding)[1]
            except InvalidTokenError:
                raise ApiError(400, "InvalidNextTokenException", "Invalid NextToken") from None
        found = [
            entry.text
            for entry in self.entries
            if entry.service in (None, service)
            and all(_matches(entry, kind, field, value) for kind, field, value in filters)
        ]
        page = found[start : start + size]
        answer: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": page}
        if start + size < len(found):
            answer["NextToken"] = self.codec.issue(binding, (0.0, start + size))
        return orjson.dumps(answer)
