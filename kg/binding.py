"""Safe parameter binding for SPARQL: values enter a query as typed terms in a VALUES block.

User values never become query text: each is a pyoxigraph term, serialized by pyoxigraph itself
(N-Triples escaping), so a string like ``" } DROP ALL #`` stays one string literal.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from pyoxigraph import BlankNode, Literal, NamedNode

from kg.errors import QueryError
from kg.terms import Term

_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def bind(sparql: str, values: Mapping[str, Term]) -> str:
    """``sparql`` with a VALUES block binding ``values`` at the start of its first WHERE group.

    The query must have a ``WHERE {`` (DLOM's query templates all do). Each value must be a
    pyoxigraph term: a NamedNode, Literal (typed), or BlankNode is refused (not bindable).
    """
    if not values:
        return sparql
    match = _WHERE.search(sparql)
    if match is None:
        raise QueryError("cannot bind parameters: the query has no 'WHERE {' group")
    names, cells = [], []
    for name, term in values.items():
        if not _VAR.match(name):
            raise QueryError(f"invalid variable name for binding: {name!r}")
        if isinstance(term, BlankNode) or not isinstance(term, NamedNode | Literal):
            raise QueryError(f"?{name}: only IRIs and literals can be bound, not {type(term).__name__}")
        names.append(f"?{name}")
        cells.append(str(term))
    block = f" VALUES ({' '.join(names)}) {{ ({' '.join(cells)}) }} "
    return sparql[: match.end()] + block + sparql[match.end() :]


def values_rows(variables: list[str], rows: list[tuple[Term, ...]]) -> str:
    """A multi-row ``VALUES`` block of typed terms (serialized by pyoxigraph, never raw text)."""
    for name in variables:
        if not _VAR.match(name):
            raise QueryError(f"invalid variable name for binding: {name!r}")
    body = " ".join("(" + " ".join(str(t) for t in row) + ")" for row in rows)
    return f"VALUES ({' '.join('?' + v for v in variables)}) {{ {body} }}"
