"""AWS account ids and region names in the forms the emulator accepts."""

from __future__ import annotations

import re

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")


def is_account_id(text: str) -> bool:
    """True for a 12-digit AWS account id."""
    return _ACCOUNT_ID.match(text) is not None


def is_region(text: str) -> bool:
    """True for a region name such as `us-east-1` or `ap-southeast-4`."""
    return _REGION.match(text) is not None
