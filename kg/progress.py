"""The one progress interface of DLOM's long-running work: importers, migration, sweeps, GNN training and the loop.

A library function takes a :class:`Progress` and defaults to :class:`NoProgress`, so library callers pass
nothing; the CLI passes a rich bar (``dlom.progress.RichProgress``). It lives in ``kg`` (the lowest layer)
so that every layer above can accept one without importing the CLI.
"""
from __future__ import annotations

from typing import Protocol


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
