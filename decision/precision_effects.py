"""The measured effect of a precision against float, as distributions (what :mod:`decision.measured_effects`
computes from the graph and :mod:`decision.objectives` turns into objective values)."""
from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

FLOAT = "float"
"""The baseline every precision is compared with."""


@dataclass(frozen=True)
class Distribution:
    """Summary of a sample: count, median, quartiles (inclusive method), extremes; None when empty."""

    n: int
    median: float | None
    q1: float | None
    q3: float | None
    min: float | None
    max: float | None

    @classmethod
    def of(cls, values: Iterable[float]) -> Distribution:
        xs = sorted(values)
        if not xs:
            return cls(0, None, None, None, None, None)
        if len(xs) == 1:
            return cls(1, xs[0], xs[0], xs[0], xs[0], xs[0])
        q1, med, q3 = statistics.quantiles(xs, n=4, method="inclusive")
        return cls(len(xs), round(med, 6), round(q1, 6), round(q3, 6), xs[0], xs[-1])


@dataclass
class PrecisionEffect:
    """The measured effect of one precision against float."""

    precision: str
    latency_ratio: Distribution
    memory_ratio: Distribution
    accuracy_change: Distribution
    accuracy_change_by_metric: dict[str, Distribution] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
