"""Copy a knowledge graph between any two stores, verified by quad counts and a canonical hash.

The canonical hash is the SHA-256 of the sorted N-Quads lines of every quad, with each blank node
written as ``_:b`` (blank node labels are not stable across stores: a remote SPARQL server relabels
them), so two stores with the same IRIs, literals and graphs have the same hash.
"""
from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

from pyoxigraph import BlankNode, DefaultGraph, Quad

from kg.errors import DlomError
from kg.progress import NoProgress, Progress
from kg.store import Store

DEFAULT_BATCH = 20_000  # quads per target transaction: bounded memory on both sides


@dataclass(frozen=True)
class GraphDigest:
    """How many quads a store holds and the canonical hash of them."""

    quads: int
    sha256: str


@dataclass(frozen=True)
class MigrationReport:
    """What :func:`migrate` copied, and the digests it verified."""

    source: GraphDigest
    target: GraphDigest
    batches: int


def canonical_line(quad: Quad) -> str:
    """One quad as an N-Quads line with every blank node written ``_:b``."""
    terms = [quad.subject, quad.predicate, quad.object]
    if not isinstance(quad.graph_name, DefaultGraph):
        terms.append(quad.graph_name)
    return " ".join("_:b" if isinstance(t, BlankNode) else str(t) for t in terms) + " ."


def digest(quads: Iterable[Quad]) -> GraphDigest:
    """The :class:`GraphDigest` of quads (a set: repeated quads count once)."""
    return _digest_of_lines({canonical_line(q) for q in quads})


def migrate(
    source: Store,
    target: Store,
    *,
    replace: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress = NoProgress(),
) -> MigrationReport:
    """Copy every quad of ``source`` into ``target`` and verify that both now hold the same graph.

    ``target`` must be empty unless ``replace`` is set (then it is cleared first). Quads are written in
    batches of ``batch_size``, one transaction each; a failure part way leaves the batches before it in
    the target (run again with ``replace``). ``progress`` hears the source's quad count, then each batch
    as it is written.
    Raises :class:`kg.errors.DlomError` if the target does not end up with the same count and hash.
    Blank nodes are copied as blank nodes, but the hash cannot tell their structure apart (see module).
    """
    if batch_size < 1:
        raise DlomError("batch size must be at least 1")
    if source is target or (source.url == target.url and source.url != "oxigraph://"):  # in-memory ones differ
        raise DlomError(f"source and target are the same store ({source.url})")
    existing = target.count()
    if existing and not replace:
        raise DlomError(f"the target {target.url} already holds {existing} quads; migrate into an empty store or pass --replace")
    if existing:
        target.clear()
    progress.start(source.count(), "copying")
    batches = 0
    seen: set[str] = set()
    quads = source.quads()
    while True:
        batch = list(itertools.islice(quads, batch_size))
        if not batch:
            break
        target.add(batch)
        seen.update(canonical_line(q) for q in batch)
        batches += 1
        progress.advance(len(batch))
    source_digest = _digest_of_lines(seen)
    target_digest = digest(target.quads())
    if target_digest != source_digest or target.count() != source_digest.quads:
        raise DlomError(
            f"migration check failed: source has {source_digest.quads} quads (sha256 {source_digest.sha256[:16]}…), "
            f"target has {target_digest.quads} (sha256 {target_digest.sha256[:16]}…)"
        )
    return MigrationReport(source_digest, target_digest, batches)


def _digest_of_lines(lines: set[str]) -> GraphDigest:
    h = hashlib.sha256()
    for line in sorted(lines):
        h.update(line.encode("utf-8"))
        h.update(b"\n")
    return GraphDigest(len(lines), h.hexdigest())
