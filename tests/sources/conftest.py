"""Source tests share the scan tests' AWS environment fixture (no real account is reachable)."""

from __future__ import annotations

from tests.scan.conftest import aws_env

__all__ = ["aws_env"]
