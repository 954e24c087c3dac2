"""Store-independent query results, in pyoxigraph's typed terms."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pyoxigraph import Triple

from kg.terms import Term


@dataclass
class Solutions:
    """SELECT results: variable names and an iterator of rows (one term or ``None`` per variable)."""

    variables: list[str]
    rows: Iterator[tuple[Term | None, ...]]

    def dicts(self) -> list[dict[str, Term]]:
        """All rows as ``{variable: term}`` (unbound variables left out)."""
        return [{v: t for v, t in zip(self.variables, row) if t is not None} for row in self.rows]


@dataclass
class BooleanResult:
    """ASK result."""

    value: bool


@dataclass
class GraphResult:
    """CONSTRUCT / DESCRIBE result."""

    triples: Iterator[Triple]


QueryResult = Solutions | BooleanResult | GraphResult
