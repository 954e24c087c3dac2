"""A :class:`kg.progress.Progress` that remembers what it heard, for tests of the work that reports to it."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RecordingProgress:
    """``total`` from the last ``start``, the sum of every ``advance``, and each ``describe`` in order."""

    total: int = 0
    advanced: int = 0
    descriptions: list[str] = field(default_factory=list)

    def start(self, total: int, description: str) -> None:
        self.total = total

    def advance(self, n: int = 1) -> None:
        self.advanced += n

    def describe(self, description: str) -> None:
        self.descriptions.append(description)
