"""Counts that summarize a store: quads per repository, instances per DLOM class."""
from __future__ import annotations

from dataclasses import dataclass

from kg.repositories import Repository
from kg.store import Store


@dataclass
class GraphStats:
    total: int
    repositories: dict[str, int]
    classes: dict[str, int]


def graph_stats(store: Store) -> GraphStats:
    repos = {r.name.lower().replace("_", "-"): store.count(r.graph) for r in Repository}
    result = store.select(
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(STRSTARTS(STR(?c), 'https://w3id.org/dlom#')) } "
        "GROUP BY ?c ORDER BY DESC(?n)"
    )
    classes = {c.value.split("#")[-1]: int(n.value) for c, n in result.rows}
    return GraphStats(total=store.count(), repositories=repos, classes=classes)
