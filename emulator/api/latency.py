"""Per-call latency: a log-normal distribution per region, like the delays seen from AWS.

Grammar (`--latency`): `off`, or a comma-separated list of `[REGION=]MEDIAN[:SIGMA]` in
seconds, where an entry without a region sets the default. Draws are `MEDIAN * exp(SIGMA * N(0,1))`
capped at 35 s, then divided by the time scale. The default, `0.2:0.35,us-east-1=1.8:1.0`, gives
about 0.2 s typically and, in us-east-1, a mean near 3 s with a tail past 15 s.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field

from emulator.names import is_region

DEFAULT_LATENCY = "0.2:0.35,us-east-1=1.8:1.0"
MAX_LATENCY = 35.0

_NUMBER = r"\d+(?:\.\d+)?"
_ENTRY = re.compile(
    rf"^(?:(?P<region>[a-z0-9-]+)=)?(?P<median>{_NUMBER})(?::(?P<sigma>{_NUMBER}))?$"
)


@dataclass(frozen=True, slots=True)
class Distribution:
    """A log-normal delay: median seconds and spread."""

    median: float
    sigma: float = 0.0

    def draw(self, rng: random.Random) -> float:
        """One delay in seconds, capped."""
        if self.median <= 0:
            return 0.0
        return min(MAX_LATENCY, self.median * math.exp(self.sigma * rng.gauss(0.0, 1.0)))


@dataclass(frozen=True, slots=True)
class LatencyModel:
    """Delays per region; `default` for the others; None everywhere means latency is off."""

    default: Distribution | None = None
    regions: dict[str, Distribution] = field(default_factory=dict)

    @property
    def off(self) -> bool:
        """True when no call is delayed."""
        return self.default is None and not self.regions

    def draw(self, region: str, rng: random.Random) -> float:
        """The delay of one call in `region`, in unscaled seconds."""
        distribution = self.regions.get(region, self.default)
        return 0.0 if distribution is None else distribution.draw(rng)


def parse_latency(spec: str) -> LatencyModel:
    """Parse a `--latency` value; raise ValueError naming the bad entry."""
    text = spec.strip()
    if text.lower() in ("off", "none", "0", ""):
        return LatencyModel()
    default: Distribution | None = None
    regions: dict[str, Distribution] = {}
    for entry in text.split(","):
        match = _ENTRY.match(entry.strip())
        if match is None:
            raise ValueError(f"latency entry {entry!r} is not [REGION=]MEDIAN[:SIGMA]")
        distribution = Distribution(float(match["median"]), float(match["sigma"] or 0.0))
        if match["region"]:
            if not is_region(match["region"]):
                raise ValueError(f"latency entry {entry!r}: {match['region']!r} is not a region")
            regions[match["region"]] = distribution
        else:
            default = distribution
    return LatencyModel(default, regions)
