"""Writes to Neo4j: quads added and deleted with batched ``UNWIND`` statements inside the caller's
transaction (set semantics; ``rdf:type`` also kept as a node label)."""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from neo4j import ManagedTransaction, Transaction

from kg.stores.neo4j.terms import RDF_TYPE, NodeKey, StoredLiteral, StoredQuad, quoted_identifier

_BATCH = 10_000  # rows per UNWIND statement: large enough to amortize round trips, small enough for memory

def _chunks(rows: list, size: int = _BATCH) -> Iterator[list]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def write_quads(tx: Transaction | ManagedTransaction, quads: Iterable[StoredQuad]) -> None:
    """Add quads (set semantics: a quad already present is not duplicated) inside ``tx``.

    Nodes that do not exist yet are created with all their literal properties and class labels in one
    ``CREATE`` per row (the bulk-load fast path); literals of existing nodes are merged key by key.
    """
    literals: dict[NodeKey, dict[str, list[Any]]] = {}
    rel_rows: dict[str, list[dict[str, str]]] = {}
    seen_rels: set[StoredQuad] = set()
    labels: dict[NodeKey, list[str]] = {}
    nodes: dict[NodeKey, None] = {}
    for q in quads:
        nodes[q.s] = None
        if isinstance(q.o, StoredLiteral):
            values = literals.setdefault(q.s, {}).setdefault(q.o.key_prefix(q.p) + q.g, [])
            if q.o.value not in values:  # one key holds one datatype, so == is exact here
                values.append(q.o.value)
            continue
        nodes[q.o] = None
        if q in seen_rels:
            continue
        seen_rels.add(q)
        rel_rows.setdefault(q.p, []).append({"s": q.s, "o": q.o, "g": q.g})
        if q.p == RDF_TYPE and not q.o.startswith("_:") and q.o not in labels.setdefault(q.s, []):
            labels[q.s].append(q.o)
    existing: set[NodeKey] = set()
    for chunk in _chunks(list(nodes), 20_000):
        existing |= {r["u"] for r in tx.run("UNWIND $uris AS u MATCH (n:Resource {uri: u}) RETURN u", uris=chunk)}
    fresh = [{"s": n, "props": literals.get(n, {}), "labels": labels.get(n, [])} for n in nodes if n not in existing]
    for chunk in _chunks(fresh):
        tx.run("UNWIND $rows AS row CREATE (n:Resource {uri: row.s}) SET n += row.props SET n:$(row.labels)",
               rows=chunk).consume()
    merge_rows = [{"s": s, "k": k, "vs": vs} for s in existing for k, vs in literals.get(s, {}).items()]
    for chunk in _chunks(merge_rows):
        tx.run(
            "UNWIND $rows AS row MATCH (n:Resource {uri: row.s}) "
            "WITH n, row, coalesce(n[row.k], []) AS old "
            "SET n[row.k] = old + [v IN row.vs WHERE NOT v IN old]",
            rows=chunk,
        ).consume()
    label_rows = [{"s": s, "labels": labels[s]} for s in existing if labels.get(s)]
    for chunk in _chunks(label_rows):
        tx.run("UNWIND $rows AS row MATCH (n:Resource {uri: row.s}) SET n:$(row.labels)", rows=chunk).consume()
    for predicate, rows in rel_rows.items():
        # A relationship touching a node created above cannot exist yet: CREATE it (rows are already
        # de-duplicated); only relationships between existing nodes need MERGE's existence check.
        created = [r for r in rows if r["s"] not in existing or r["o"] not in existing]
        merged = [r for r in rows if r["s"] in existing and r["o"] in existing]
        for verb, subset in (("CREATE", created), ("MERGE", merged)):
            for chunk in _chunks(subset):
                tx.run(
                    "UNWIND $rows AS row MATCH (s:Resource {uri: row.s}) MATCH (o:Resource {uri: row.o}) "
                    f"{verb} (s)-[:{quoted_identifier(predicate)} {{graph: row.g}}]->(o)",
                    rows=chunk,
                ).consume()


def delete_quads(tx: Transaction | ManagedTransaction, quads: Iterable[StoredQuad]) -> None:
    """Remove quads (absent ones are ignored) inside ``tx``; class labels follow their rdf:type links."""
    literal_rows: dict[tuple[str, str], list[Any]] = {}
    rel_rows: dict[str, list[dict[str, str]]] = {}
    type_rows: dict[str, list[str]] = {}
    for q in quads:
        if isinstance(q.o, StoredLiteral):
            literal_rows.setdefault((q.s, q.o.key_prefix(q.p) + q.g), []).append(q.o.value)
            continue
        rel_rows.setdefault(q.p, []).append({"s": q.s, "o": q.o, "g": q.g})
        if q.p == RDF_TYPE and not q.o.startswith("_:"):
            type_rows.setdefault(q.o, []).append(q.s)
    for chunk in _chunks([{"s": s, "k": k, "vs": vs} for (s, k), vs in literal_rows.items()]):
        tx.run(
            "UNWIND $rows AS row MATCH (n:Resource {uri: row.s}) "
            "WITH n, row, [v IN coalesce(n[row.k], []) WHERE NOT v IN row.vs] AS rest "
            "SET n[row.k] = CASE WHEN size(rest) = 0 THEN null ELSE rest END",
            rows=chunk,
        ).consume()
    for predicate, rows in rel_rows.items():
        for chunk in _chunks(rows):
            tx.run(
                f"UNWIND $rows AS row MATCH (:Resource {{uri: row.s}})-[r:{quoted_identifier(predicate)} {{graph: row.g}}]->"
                "(:Resource {uri: row.o}) DELETE r",
                rows=chunk,
            ).consume()
    for cls, subjects in type_rows.items():
        for chunk in _chunks(subjects):
            tx.run(
                f"UNWIND $uris AS u MATCH (n:Resource {{uri: u}}) "
                f"WHERE NOT EXISTS {{ (n)-[:{quoted_identifier(RDF_TYPE)}]->(:Resource {{uri: $cls}}) }} "
                f"REMOVE n:{quoted_identifier(cls)}",
                uris=chunk, cls=cls,
            ).consume()
