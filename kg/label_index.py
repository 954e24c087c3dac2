"""The label index: every labelled IRI subject's labels, search rank and classes, for the explorer's
substring search (:func:`kg.exploration.search_page`, issue 18).

The search's SPARQL query tests ``CONTAINS(LCASE(label))`` on every rdfs:label (173k on the shipped graph,
20 MB of text): about a second per search. This index holds one row per distinct (subject, STR(label))
pair, rows ordered by (subject IRI, label), the lower-cased labels as one UTF-8 byte string (each followed
by a NUL), and the positions of every byte pair (bigram) of that string grouped by bigram.

Why bigram positions and not ``str.find`` over the joined text: measured on the shipped graph (2-core
machine), one ``str.find`` scan of the 20 MB alone takes 11-15 ms per needle before any match is mapped to
a row, and a loop over the matches adds ~1 µs each; the candidates of a needle's rarest bigram are a slice
of the position array, verified byte by byte with vectorized numpy gathers: 2-3 ms for "nucleo", "resnet",
"w8a8", under 0.1 ms for "raspberry". UTF-8 substring search equals code-point substring search (UTF-8 is
self-synchronizing); a needle without NUL cannot match across two labels. The cost is memory: 4 bytes per
text byte (83 MB for the shipped graph's positions), stated by ``benchmarks/explorer_search.py``.

Derived, never written: built with two bulk SELECTs and kept per generation of the store by
:func:`kg.derived_results.derived`; the caller decides what answers while it is built.
"""
from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

from kg.namespaces import SPARQL_PREFIXES
from kg.store import Store


@dataclass(frozen=True)
class LabelIndex:
    """Rows ``r`` (ordered by subject IRI, then label): ``labels[r]`` (STR of the label),
    ``row_subject[r]`` (index into ``iris``, which is sorted), ``row_key[r]`` (the row's position in the
    order (subject rank, label length, label, IRI)); per subject ``rank``; per (subject, class) pair
    ``pair_subject``/``pair_class`` (codes into ``classes``)."""

    iris: list[str]
    labels: list[str]
    row_subject: np.ndarray
    row_key: np.ndarray
    rank: np.ndarray
    classes: dict[str, int]
    pair_subject: np.ndarray
    pair_class: np.ndarray
    text: np.ndarray
    starts: np.ndarray
    positions: np.ndarray
    bigram_offsets: np.ndarray
    build_ms: float

    @property
    def nbytes(self) -> int:
        """Bytes held in numpy arrays and label strings (approximate)."""
        arrays = (self.row_subject, self.row_key, self.rank, self.pair_subject, self.pair_class, self.text,
                  self.starts, self.positions, self.bigram_offsets)
        return sum(a.nbytes for a in arrays) + sum(len(s) + 49 for s in self.labels) + sum(len(s) + 49 for s in self.iris)

    def matching_rows(self, needle: str) -> np.ndarray:
        """The rows whose lower-cased label contains ``needle`` (lower-cased already, 2+ characters, no NUL),
        ascending."""
        b = np.frombuffer(needle.encode(), dtype=np.uint8)
        bigrams = (b[:-1].astype(np.int64) << 8) | b[1:]
        counts = self.bigram_offsets[bigrams + 1] - self.bigram_offsets[bigrams]
        j = int(np.argmin(counts))
        g = int(bigrams[j])
        cand = self.positions[self.bigram_offsets[g]:self.bigram_offsets[g + 1]].astype(np.int64) - j
        cand = cand[cand >= 0]
        last = len(self.text) - 1
        for k in range(len(b)):
            if k in (j, j + 1) or not len(cand):
                continue
            cand = cand[self.text[np.minimum(cand + k, last)] == b[k]]
        rows = np.searchsorted(self.starts, cand, side="right") - 1
        if not len(rows):
            return rows
        return rows[np.r_[True, rows[1:] != rows[:-1]]]  # candidates ascend, so rows do

    def with_class(self, class_iri: str) -> np.ndarray:
        """A mask over subjects: those with ``class_iri`` as a direct rdf:type."""
        mask = np.zeros(len(self.iris), dtype=bool)
        code = self.classes.get(class_iri)
        if code is not None:
            mask[self.pair_subject[self.pair_class == code]] = True
        return mask


def build_label_index(store: Store, rank_of: Callable[[Iterable[str | None]], int]) -> LabelIndex:
    """The index of ``store``'s labelled IRI subjects; ``rank_of(classes)`` gives a subject's rank from its
    rdf:type values (IRI strings; a subject without types gets ``rank_of([None])``). Read-only on the store."""
    t0 = time.perf_counter()
    pairs: set[tuple[str, str]] = set()
    for s, label in store.select(SPARQL_PREFIXES + """
            SELECT ?s (STR(?l) AS ?label) WHERE { ?s rdfs:label ?l FILTER(isIRI(?s) && !isBlank(?l)) }""").rows:
        if s is not None and label is not None:
            pairs.add((s.value, label.value))
    types: dict[str, list[str]] = defaultdict(list)
    for s, c in store.select(SPARQL_PREFIXES + "SELECT ?s ?c WHERE { ?s a ?c FILTER(isIRI(?s)) }").rows:
        if s is not None and c is not None:
            types[s.value].append(c.value if hasattr(c, "value") else str(c))
    ordered = sorted(pairs)
    iris = sorted({s for s, _ in ordered})
    where = {iri: i for i, iri in enumerate(iris)}
    labels = [label for _, label in ordered]
    row_subject = np.fromiter((where[s] for s, _ in ordered), dtype=np.int32, count=len(ordered))
    rank = np.fromiter((rank_of(types.get(iri) or [None]) for iri in iris), dtype=np.int8, count=len(iris))
    # the display order of every row, so a query sorts small integers, not strings
    label_order = {v: i for i, v in enumerate(sorted(set(labels)))}
    keys = sorted(range(len(labels)), key=lambda r: (int(rank[row_subject[r]]), len(labels[r]),
                                                     label_order[labels[r]], int(row_subject[r])))
    row_key = np.empty(len(labels), dtype=np.int32)
    row_key[np.asarray(keys, dtype=np.int64)] = np.arange(len(labels), dtype=np.int32)
    classes: dict[str, int] = {}
    ps, pc = [], []
    for iri in iris:
        for c in types.get(iri, ()):
            ps.append(where[iri])
            pc.append(classes.setdefault(c, len(classes)))
    encoded = [label.lower().encode() for label in labels]
    lengths = np.fromiter((len(e) + 1 for e in encoded), dtype=np.int64, count=len(encoded))
    starts = np.zeros(len(encoded), dtype=np.int64)
    if len(encoded):
        starts[1:] = np.cumsum(lengths)[:-1]
    text = np.frombuffer(b"".join(e + b"\x00" for e in encoded) or b"\x00", dtype=np.uint8)
    bigram = (text[:-1].astype(np.uint16) << 8) | text[1:]
    positions = np.argsort(bigram, kind="stable").astype(np.int32)  # radix sort; positions ascend per bigram
    offsets = np.zeros(65537, dtype=np.int64)
    offsets[1:] = np.cumsum(np.bincount(bigram, minlength=65536))
    return LabelIndex(iris, labels, row_subject, row_key, rank, classes, np.asarray(ps, dtype=np.int32),
                      np.asarray(pc, dtype=np.int32), text, starts, positions, offsets,
                      (time.perf_counter() - t0) * 1000)


@dataclass(frozen=True, eq=False)
class RankedMatches(Sequence[tuple[int, str, str]]):
    """The matches of a search in display order, as rows of the index: reads as the sequence of
    (rank, shown label, IRI), each made when it is read — a page of a needle matching tens of thousands
    of entities makes only the page's."""

    source: LabelIndex
    rows: np.ndarray
    subjects: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, i: int) -> tuple[int, str, str]: ...
    @overload
    def __getitem__(self, i: slice) -> list[tuple[int, str, str]]: ...

    def __getitem__(self, i: int | slice) -> tuple[int, str, str] | list[tuple[int, str, str]]:
        index = self.source
        if isinstance(i, slice):
            rows, subjects = self.rows[i], self.subjects[i]
            return [(r, index.labels[row], index.iris[s])
                    for r, row, s in zip(index.rank[subjects].tolist(), rows.tolist(), subjects.tolist())]
        s = int(self.subjects[i])
        return int(index.rank[s]), index.labels[int(self.rows[i])], index.iris[s]

    def rank_counts(self) -> dict[int, int]:
        """How many matches have each rank (ranks without any left out)."""
        counts = np.bincount(self.source.rank[self.subjects].astype(np.int64))
        return {r: int(n) for r, n in enumerate(counts.tolist()) if n}


def ranked_matches(index: LabelIndex, needle: str, class_iri: str | None) -> RankedMatches:
    """Every subject with a label containing ``needle`` (lower-cased), optionally only direct instances of
    ``class_iri``, in display order — what the SPARQL path gives: the shown label is the least matching
    label (rows of a subject ascend by label, so its first matching row)."""
    rows = index.matching_rows(needle)
    if not len(rows):
        return RankedMatches(index, rows, rows)
    subjects = index.row_subject[rows]
    first = np.r_[True, subjects[1:] != subjects[:-1]]
    rows, subjects = rows[first], subjects[first]
    if class_iri is not None:
        keep = index.with_class(class_iri)[subjects]
        rows, subjects = rows[keep], subjects[keep]
    order = np.argsort(index.row_key[rows], kind="stable")
    return RankedMatches(index, rows[order], subjects[order])


__all__ = ["LabelIndex", "RankedMatches", "build_label_index", "ranked_matches"]
