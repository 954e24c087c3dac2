"""The one validated write path: triples → SHACL validation → repository routing → one atomic write.

Importers, the API's mutations, ratings, benchmark results and predictions all write through
:func:`write_triples`, so nothing reaches the store unvalidated and nothing lands half-written.
"""
from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from pyoxigraph import NamedNode, Triple

from kg.binding import values_rows
from kg.errors import ValidationError
from kg.namespaces import RDF
from kg.repositories import route
from kg.store import Store
from kg.validation import validate

_CHUNK = 400
BULK_MIN_QUADS = 20_000
"""From this size on a write takes the store's bulk path (:meth:`kg.store.Store.bulk_add`): for the
embedded store a staged copy, which costs a fixed few milliseconds but loads several times faster."""


@dataclass(frozen=True)
class WriteReport:
    """What a write did."""

    triples: int
    subjects: int


def existing_types(store: Store, iris: Sequence[str]) -> dict[str, set[str]]:
    """The rdf:types the store holds for each of ``iris`` (IRIs with no type are left out)."""
    found: dict[str, set[str]] = {}
    for i in range(0, len(iris), _CHUNK):
        chunk = [(NamedNode(iri),) for iri in iris[i : i + _CHUNK]]
        q = f"SELECT ?s ?t WHERE {{ {values_rows(['s'], chunk)} ?s a ?t }}"
        result = store.select(q)
        for s, t in result.rows:
            found.setdefault(s.value, set()).add(t.value)
    return found


def existing_counts(store: Store, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """How many values the store holds for each (subject IRI, property IRI) pair."""
    counts: dict[tuple[str, str], int] = {}
    for i in range(0, len(pairs), _CHUNK):
        chunk = [(NamedNode(s), NamedNode(p)) for s, p in pairs[i : i + _CHUNK]]
        q = (f"SELECT ?s ?p (COUNT(?o) AS ?n) WHERE {{ {values_rows(['s', 'p'], chunk)} ?s ?p ?o }} "
             "GROUP BY ?s ?p")
        result = store.select(q)
        for s, p, n in result.rows:
            counts[(s.value, p.value)] = int(n.value)
    return counts


def check_triples(store: Store, triples: Sequence[Triple], source: str | None = None) -> None:
    """Raise :class:`ValidationError` if the triples, added to the store, would violate the shapes."""
    violations = validate(
        triples,
        existing_types=lambda iris: existing_types(store, iris),
        existing_counts=lambda pairs: existing_counts(store, pairs),
    )
    if violations:
        raise ValidationError(violations, source)


def write_triples(store: Store, triples: Iterable[Triple], source: str | None = None,
                  bulk: bool | None = None) -> WriteReport:
    """Validate ``triples`` against the SHACL shapes (in the context of what the store holds), place
    each in its repository's named graph, and add them atomically (one transaction, or the store's
    bulk path).

    Raises :class:`kg.errors.ValidationError` (naming ``source``) and writes nothing if any record is
    invalid. ``bulk`` forces the store's bulk path on or off; by default writes of at least
    :data:`BULK_MIN_QUADS` take it.
    """
    triples = list(triples)
    with _collector_paused(len(triples) >= BULK_MIN_QUADS):
        return _write(store, triples, source, bulk)


@contextmanager
def _collector_paused(pause: bool) -> Iterator[None]:
    """Pause Python's cyclic garbage collector: a large write allocates millions of short-lived term
    objects and no cycles, and each collection would walk every live one (measured: a fifth of a 300k
    triple write)."""
    was_enabled = gc.isenabled()
    if pause and was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if pause and was_enabled:
            gc.enable()


def _write(store: Store, triples: list[Triple], source: str | None, bulk: bool | None) -> WriteReport:
    check_triples(store, triples, source)
    rdf_type = RDF.type
    subjects = {t.subject for t in triples}
    typed = {t.subject for t in triples if t.predicate == rdf_type}
    untyped = sorted(s.value for s in subjects - typed if isinstance(s, NamedNode))
    quads = route(triples, known_types={k: sorted(v) for k, v in existing_types(store, untyped).items()})
    if bulk if bulk is not None else len(quads) >= BULK_MIN_QUADS:
        store.bulk_add(quads)
    else:
        store.add(quads)
    return WriteReport(triples=len(quads), subjects=len(subjects))
