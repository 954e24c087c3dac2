"""Safe parameter binding for SPARQL: values enter a query as typed terms in a VALUES block.

User values never become query text: each is a pyoxigraph term, serialized by pyoxigraph itself
(N-Triples escaping), so a string like ``" } DROP ALL #`` stays one string literal. Where the block
goes is found in the query's token stream (:mod:`kg.sparql_tokens`), not by a regular expression over
its text: a ``WHERE {`` in a comment or string is not a place to bind, and every subquery's WHERE
clause gets the block too, so a variable used only inside a subquery is bound as well.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from pyoxigraph import BlankNode, Literal, NamedNode

from kg.errors import QueryError
from kg.sparql_tokens import group_openings
from kg.terms import Term

_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def bind(sparql: str, values: Mapping[str, Term]) -> str:
    """``sparql`` with a VALUES block binding ``values`` at the start of each WHERE group (the query's
    and every subquery's; a SELECT or ASK without the WHERE keyword: its group).

    Each value must be a pyoxigraph term: a NamedNode or a (typed) Literal; a BlankNode is refused
    (not bindable). A query with no group to bind in raises :class:`kg.errors.QueryError`.
    """
    if not values:
        return sparql
    openings = group_openings(sparql)
    if not openings:
        raise QueryError("cannot bind parameters: the query has no WHERE group")
    names, cells = [], []
    for name, term in values.items():
        if not _VAR.match(name):
            raise QueryError(f"invalid variable name for binding: {name!r}")
        if isinstance(term, BlankNode) or not isinstance(term, NamedNode | Literal):
            raise QueryError(f"?{name}: only IRIs and literals can be bound, not {type(term).__name__}")
        names.append(f"?{name}")
        cells.append(str(term))
    block = f" VALUES ({' '.join(names)}) {{ ({' '.join(cells)}) }} "
    pieces, start = [], 0
    for at in openings:
        pieces += [sparql[start:at], block]
        start = at
    return "".join(pieces) + sparql[start:]


def values_rows(variables: list[str], rows: Sequence[tuple[Term | None, ...]]) -> str:
    """A multi-row ``VALUES`` block of typed terms (serialized by pyoxigraph, never raw text; None is
    ``UNDEF``)."""
    for name in variables:
        if not _VAR.match(name):
            raise QueryError(f"invalid variable name for binding: {name!r}")
    body = " ".join("(" + " ".join("UNDEF" if t is None else str(t) for t in row) + ")" for row in rows)
    return f"VALUES ({' '.join('?' + v for v in variables)}) {{ {body} }}"
