"""N-Quads data as quads, for the backends that have no native N-Quads loader."""
from __future__ import annotations

import pyoxigraph as ox

from kg.errors import QueryError


def parse_nquads(data: bytes) -> list[ox.Quad]:
    """The quads of N-Quads ``data``; QueryError ("malformed N-Quads: …") if it does not parse."""
    try:
        return list(ox.parse(data, format=ox.RdfFormat.N_QUADS))
    except SyntaxError as e:
        raise QueryError(f"malformed N-Quads: {e}") from None
