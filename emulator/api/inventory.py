"""Organizations ListAccounts and EC2 DescribeRegions, answered from the loaded history."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from emulator.api.protocol import EC2_NAMESPACE, ApiError, request_id, xml_element

ORGANIZATION_ID = "o-leftovers0"
_JOINED = 1_600_000_000


def list_accounts(accounts: list[str], management: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """One page of ListAccounts over `accounts` (the management account included)."""
    everyone = sorted({*accounts, management})
    limit = body.get("MaxResults", 20)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 20:
        raise ApiError(400, "InvalidInputException", "MaxResults must be between 1 and 20.")
    offset = 0
    token = body.get("NextToken")
    if token is not None:
        try:
            offset = int(base64.urlsafe_b64decode(str(token).encode()).decode())
        except (binascii.Error, ValueError, UnicodeError):
            raise ApiError(400, "InvalidInputException", "Invalid NextToken.") from None
    chosen = everyone[offset : offset + limit]
    answer: dict[str, Any] = {
        "Accounts": [
            {
                "Id": account,
                "Arn": f"arn:aws:organizations::{management}:account/{ORGANIZATION_ID}/{account}",
                "Email": f"aws+{account}@example.com",
                "Name": f"account-{account}",
                "Status": "ACTIVE",
                "State": "ACTIVE",
                "JoinedMethod": "CREATED" if account != management else "INVITED",
                "JoinedTimestamp": _JOINED,
            }
            for account in chosen
        ]
    }
    if offset + limit < len(everyone):
        answer["NextToken"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
    return answer


def describe_regions(regions: list[str], params: Mapping[str, str]) -> str:
    """DescribeRegions (XML) over `regions`, honouring `RegionName.N` when given."""
    wanted = {value for key, value in params.items() if key.startswith("RegionName.")}
    unknown = wanted - set(regions)
    if unknown:
        raise ApiError(
            400, "InvalidParameterValue", f"Invalid region name(s): {', '.join(sorted(unknown))}"
        )
    items = "".join(
        "<item>"
        + xml_element("regionName", region)
        + xml_element("regionEndpoint", f"ec2.{region}.amazonaws.com")
        + xml_element("optInStatus", "opt-in-not-required")
        + "</item>"
        for region in regions
        if not wanted or region in wanted
    )
    return (
        f'<DescribeRegionsResponse xmlns="{EC2_NAMESPACE}">'
        f"{xml_element('requestId', request_id())}<regionInfo>{items}</regionInfo>"
        f"</DescribeRegionsResponse>"
    )
