"""leftovers: find AWS resources that were created and never deleted, from CloudTrail."""

__version__ = "0.1.0"
