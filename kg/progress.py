"""The one progress interface of DLOM's long-running work: importers, migration, sweeps, GNN training and the loop.

A library function takes a :class:`Progress` and defaults to :class:`NoProgress`, so library callers pass
nothing; the CLI passes a rich bar (``dlom.progress.RichProgress``). It lives in ``kg`` (the lowest layer)
so that every layer above can accept one without importing the CLI.

One job that reports where it is (a benchmark run, a Build-new measurement job polled over REST)
reports through a :data:`PhaseReport` instead: the fraction done and the phase it is in.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

PhaseReport = Callable[[float, str], None]
"""``report(fraction, phase)``: the share of the job done (0–1, clamped by whoever shows it) and what it
is doing now. Each call returns at once; none may raise."""


def no_report(fraction: float, phase: str) -> None:
    """A :data:`PhaseReport` that ignores everything: the default of a library function."""


class Progress(Protocol):
    """Hears how far a piece of work has come: ``start`` once with the number of units, then ``advance``
    as units finish (their sum reaches ``total`` when the work completes), ``describe`` when the unit
    being worked on changes (a sweep names its item). Each call returns at once; none may raise."""

    def start(self, total: int, description: str) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def describe(self, description: str) -> None: ...


class NoProgress:
    """A :class:`Progress` that ignores everything: the default of every library function."""

    def start(self, total: int, description: str) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def describe(self, description: str) -> None:
        pass
