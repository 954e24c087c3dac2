"""The one validated write path: triples → SHACL validation → repository routing → one atomic write.

Importers, the API's mutations, ratings, benchmark results and predictions all write through
:func:`write_triples`, so nothing reaches the store unvalidated and nothing lands half-written.
What they write is built with one :class:`TripleBuilder`, which remembers the input file, line and
field each triple came from, so a SHACL violation is reported where the user can fix it
(:meth:`TripleBuilder.field_for`, :meth:`TripleBuilder.location`).
"""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from kg.binding import values_rows
from kg.errors import ValidationError
from kg.namespaces import DLOM_VOCABULARIES, PREFIXES, RDF
from kg.repositories import route_by_graph
from kg.store import Store
from kg.terms import literal
from kg.validation import validate

_CHUNK = 400
BULK_MIN_QUADS = 20_000
"""From this size on a write takes the store's bulk path (:meth:`kg.store.Store.bulk_add`): for the
embedded store a staged copy, which costs a fixed few milliseconds but loads several times faster."""


class TripleBuilder:
    """The triples of one write, in insertion order and each once, with where each came from.

    ``add(s, p, o, line, field)`` turns a Python value into a typed literal (:func:`kg.terms.literal`)
    and skips None (an empty input field). Each subject remembers the file (:attr:`file` when it was
    first added) and line it came from; each (subject, predicate) the input field that gave it; a
    subject may carry a field prefix (:meth:`subject`, e.g. ``techniques[0]``) naming its other
    properties' fields. ``counts`` tallies what an import made, by kind.
    """

    def __init__(self, file: str = "") -> None:
        self.file = file
        self.counts: dict[str, int] = {}
        self._triples: dict[Triple, None] = {}
        self._location: dict[str, tuple[str, int | None]] = {}
        self._field: dict[tuple[str, str], str] = {}
        self._prefix: dict[str, str] = {}

    def add(self, s: NamedNode | BlankNode, p: NamedNode, o: Any, line: int | None = None, field: str | None = None) -> None:
        if o is None:
            return
        obj = o if isinstance(o, NamedNode | BlankNode | Literal) else literal(o)
        self._triples[Triple(s, p, obj)] = None
        self.locate(s.value, self.file, line, p.value, field)

    def locate(self, focus: str, file: str, line: int | None = None, predicate: str | None = None,
               field: str | None = None) -> None:
        """Record where the subject ``focus`` (and its ``predicate``'s value, as ``field``) came from,
        for triples kept outside the builder (e.g. parsed RDF files, whose parsers give no line)."""
        self._location.setdefault(focus, (file, line))
        if predicate and field:
            self._field.setdefault((focus, predicate), field)

    def extend(self, triples: Iterable[Triple]) -> None:
        """Add triples built elsewhere (no input location)."""
        for t in triples:
            self._triples[t] = None

    def subject(self, node: NamedNode, prefix: str) -> None:
        """Name the input fields of ``node``'s properties ``prefix.<property local name>``."""
        self._prefix[node.value] = prefix

    def count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    @property
    def triples(self) -> list[Triple]:
        return list(self._triples)

    def __iter__(self) -> Iterator[Triple]:
        return iter(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def location(self, focus: str) -> tuple[str, int | None]:
        """The file and line the subject ``focus`` (an IRI) came from; (:attr:`file`, None) if unknown."""
        file, line = self._location.get(focus, (self.file, None))
        return file or self.file, line

    def field_for(self, focus: str, path: str | None) -> str | None:
        """The input field a SHACL violation at ``focus`` on ``path`` (a shortened IRI such as
        ``dlom:accuracy``, or None) points at: the field that gave that property of that subject, else
        the subject's prefix with the property's local name, else (no path) the prefix; None if unknown."""
        prefix = self._prefix.get(focus)
        if path is None:
            return prefix
        full = expand_iri(path)
        if (focus, full) in self._field:
            return self._field[(focus, full)]
        if prefix is None:
            return None
        local = full.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        return f"{prefix}.{local}" if prefix else local


def expand_iri(short: str) -> str:
    """``dlom:accuracy`` → the full IRI (DLOM's prefixes); ``<iri>`` → iri; anything else unchanged."""
    if short.startswith("<") and short.endswith(">"):
        return short[1:-1]
    prefix, _, local = short.partition(":")
    return PREFIXES[prefix] + local if prefix in PREFIXES else short


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
    rdf_type = RDF.type
    subjects = {t.subject for t in triples}
    typed = {t.subject for t in triples if t.predicate == rdf_type}
    untyped = sorted(s.value for s in subjects - typed if isinstance(s, NamedNode))
    quads = route_by_graph(triples, known_types={k: sorted(v) for k, v in existing_types(store, untyped).items()})
    before = _generations(store)
    if bulk if bulk is not None else len(quads) >= BULK_MIN_QUADS:
        # validated while the store loads the quads, where it can do both at once (nothing is written
        # if validation fails)
        try:
            store.bulk_add(quads, check=lambda: check_triples(store, triples, source))
        except ValidationError:
            # nothing was written, but the write moved the generation: say so, or a derived index
            # would take the move for a change it cannot follow and rebuild
            _notify(store, before, ())
            raise
    else:
        check_triples(store, triples, source)
        store.add(quads)
    _notify(store, before, triples)
    return WriteReport(triples=len(quads), subjects=len(subjects))


def _notify(store: Store, before: tuple[int, int] | None, triples: Sequence[Triple]) -> None:
    """Tell the write listeners that ``triples`` were added since the generations ``before``."""
    after = _generations(store)
    if _listeners and before is not None and after is not None:
        moves = getattr(store, "GENERATION_MOVES_PER_WRITE", None)
        notice = WriteNotice(store, triples, before[1], after[1], moves is not None and after[0] - before[0] == moves)
        for listener in tuple(_listeners):
            listener(notice)


@dataclass(frozen=True)
class WriteNotice:
    """What one validated write added, for indexes derived from the store that keep themselves current
    without a rebuild (:mod:`decision.facet_index`). ``before``/``after``: the generation of DLOM's
    vocabularies (:meth:`Store.generation_of` of :data:`kg.namespaces.DLOM_VOCABULARIES`) around the
    write; ``sole``: no other write ran meanwhile (the store's generation moved by exactly its own write),
    so the store at ``after`` is the store at ``before`` plus ``triples`` (none: a bulk write its
    validation refused, which wrote nothing but moved the generation). Writes are add-only here; any
    other change (SPARQL updates, removals) sends no notice, and a listener must see the gap."""

    store: Store
    triples: Sequence[Triple]
    before: int
    after: int
    sole: bool


_listeners: list[Callable[[WriteNotice], None]] = []


def add_write_listener(listener: Callable[[WriteNotice], None]) -> None:
    """Call ``listener`` after every validated write to a store that keeps a generation (the embedded
    store), in the writing thread; it must be quick and must not write."""
    if listener not in _listeners:
        _listeners.append(listener)


def _generations(store: Store) -> tuple[int, int] | None:
    if getattr(store, "generation", None) is None:
        return None
    vocabularies = store.generation_of(DLOM_VOCABULARIES)
    return None if vocabularies is None else (store.generation, vocabularies)  # type: ignore[return-value]
