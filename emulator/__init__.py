"""A CloudTrail LookupEvents and STS emulator, with a generator of demo histories to serve.

`emulator.api` serves the AWS calls a scan makes; `emulator.history` generates seeded histories
with their ground truth. The scanner uses only this face:

    Emulator(history=PATHS, records=..., rate=DEFAULT_RATE, latency=DEFAULT_LATENCY, faults=...)
        .load(PATHS, RECORDS), .running(host, port) -> Running (async), .in_thread() (sync)
    parse_spec("accounts=3,seed=7,...") -> GeneratorSpec
    generate(spec) -> CloudTrail records; write_history(spec, folder) -> its ground truth
"""

from emulator.api.latency import DEFAULT_LATENCY
from emulator.api.limits import DEFAULT_RATE
from emulator.api.runtime import Emulator, Running
from emulator.history.generator import GeneratorSpec, generate, parse_spec, write_history

__all__ = [
    "DEFAULT_LATENCY",
    "DEFAULT_RATE",
    "Emulator",
    "GeneratorSpec",
    "Running",
    "generate",
    "parse_spec",
    "write_history",
]
