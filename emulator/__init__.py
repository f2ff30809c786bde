"""A CloudTrail LookupEvents and STS emulator for demos, tests and benchmarks."""
