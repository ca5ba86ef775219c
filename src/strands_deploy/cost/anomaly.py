"""Days whose cost is far outside the agent's recent distribution (docs/cost.md, "Anomalies").

A robust z-score: ``0.6745 × (cost − median) / MAD`` over the agent's days in the window, where
MAD is the median absolute deviation; a day scoring above :data:`THRESHOLD` (3.5, Iglewicz and
Hoaglin's cut-off) is flagged. Robust statistics, because one expensive day must not hide itself by
raising the mean and the standard deviation it is compared with. With fewer than
:data:`MIN_DAYS` days there is no distribution to speak of and nothing is flagged; when more than
half the days cost the same (MAD 0), a day is flagged when it costs more than twice the median.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

THRESHOLD = 3.5
MIN_DAYS = 5
MIN_USD = 0.01  # never flag a day that cost less than a cent more than usual


@dataclass(frozen=True)
class Anomaly:
    agent: str
    day: str
    usd: float
    median: float
    score: float | None  # None: flagged by the MAD-0 rule

    def to_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "day": self.day,
            "usd": round(self.usd, 6),
            "median_usd": round(self.median, 6),
            "score": None if self.score is None else round(self.score, 2),
        }


def anomalies(by_day: Mapping[str, Mapping[str, float]]) -> list[Anomaly]:
    out: list[Anomaly] = []
    for agent, days in sorted(by_day.items()):
        if len(days) < MIN_DAYS:
            continue
        values = list(days.values())
        median = statistics.median(values)
        mad = statistics.median(abs(v - median) for v in values)
        for day, usd in days.items():
            if usd - median < MIN_USD:
                continue
            if mad > 0:
                score = 0.6745 * (usd - median) / mad
                if score > THRESHOLD:
                    out.append(Anomaly(agent, day, usd, median, score))
            elif usd > 2 * median:
                out.append(Anomaly(agent, day, usd, median, None))
    return out
