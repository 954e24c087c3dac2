"""The DSS over 10k candidate models: p50 of the ranking step and of the whole recommend call,
beside anchors measured in the same run.

On a synthetic graph from benchmarks/generate_graph.py (every model has application area, cost, devices,
measured performance with stability; ~22 triples per model) plus user ratings on 10% of the models
(written through kg.writes.write_triples), it times, for each scenario:

  * anchor A — the bare retrieval SPARQL query alone (store.query + consuming the rows, no Python objects);
  * anchor B — numpy Eq. 1 alone (values @ weights, argsort);
  * the ranking step — decision.recommend.rank_candidates: Eq. 1, the ranking, the Pareto front and the
    top choice's sensitivity over the candidate matrix;
  * objective values — decision.objectives.objective_matrix (derivations + ratings);
  * the whole call — decision.recommend.recommend (validation, AHP, retrieval, ratings, scoring,
    ranking, Pareto, sensitivity, explanations with evidence for the top 5), twice: *cold* (nothing
    kept: the retrieval query runs) and *re-ranking* (the same requirements again, as when a user moves
    a preference in the wizard: the candidate set and objective values kept since the first call,
    until the store changes — kg.derived_results).

Scenarios: 'any' (no constraint: all 10k models are candidates) and 'paper' (§6: Medical, ≤ $14k for 10
devices, Fig. 8a comparisons — a few hundred candidates).
Usage: python -m benchmarks.decision_recommend [n_models] [repetitions]
"""
from __future__ import annotations

import datetime as dt
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
from pyoxigraph import Triple

from benchmarks.generate_graph import TRIPLES_PER_MODEL, generate_graph
from decision.elicitation import PAPER_EXAMPLE_COMPARISONS
from decision.objectives import Objective
from decision.ratings import rating_triples
from decision.recommend import rank_candidates, recommend
from decision.requirements import parse_requirements
from decision.retrieval import build_query
from decision.recommend import preference_weights
from decision.objectives import objective_matrix
from decision.ratings import mean_ratings
from decision.retrieval import retrieve
from kg.derived_results import forget
from kg.namespaces import entity
from kg.ontology import ontology_quads
from kg.store import Store, open_store
from kg.writes import write_triples

FIG_8A = [dict(c) for c in PAPER_EXAMPLE_COMPARISONS]
SCENARIOS = {
    "any": {"preferences": {"comparisons": FIG_8A}},
    "paper": {"project": {"business_focus": "Medical", "total_budget_usd": 14000, "number_of_devices": 10},
              "preferences": {"comparisons": FIG_8A}},
}


def build_store(n_models: int) -> Store:
    store = open_store("oxigraph://")
    store.add(ontology_quads())
    store.add(generate_graph(n_models * TRIPLES_PER_MODEL))
    rnd = random.Random(11)
    at = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    triples: list[Triple] = []
    for i in range(0, n_models, 10):
        iri = entity("model", "synthetic", str(i)).value
        triples += rating_triples(iri, {o: rnd.randint(1, 5) for o in Objective}, f"user{i % 7}", at)
    write_triples(store, triples, source="benchmark ratings")
    return store


def p50(fn: Callable[[], object], reps: int) -> tuple[float, float]:
    """(p50, p90) wall time in ms over ``reps`` runs after one warm-up."""
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.9 * len(times)))]


def main() -> None:
    n_models = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    t0 = time.perf_counter()
    store = build_store(n_models)
    setup_s = time.perf_counter() - t0
    report: dict[str, object] = {"models": n_models, "quads": store.count(), "setup_s": round(setup_s, 1),
                                 "repetitions": reps, "python": platform.python_version(),
                                 "machine": platform.machine(), "scenarios": {}}
    for name, data in SCENARIOS.items():
        req = parse_requirements(data)
        q = build_query(req)
        weights = preference_weights(req).weights

        def bare_query() -> int:
            return sum(1 for _ in store.select(q.text, substitutions=q.params).rows)

        found = retrieve(store, req)
        rated = mean_ratings(store)
        values = objective_matrix(found.raw_columns(), [rated.get(i, {}) for i in found.iris]).values
        forget(store)

        def numpy_eq1() -> object:
            return np.argsort(-(values @ weights))

        results = {
            "candidates": len(found),
            "retrieval_cold_ms": p50(lambda: (forget(store), retrieve(store, req)), reps),
            "anchor_bare_sparql_ms": p50(bare_query, reps),
            "anchor_numpy_eq1_ms": p50(numpy_eq1, reps),
            "ranking_step_ms": p50(lambda: rank_candidates(values, weights), reps),
            "objective_values_ms": p50(lambda: objective_matrix(found.raw_columns(),
                                                                [rated.get(i, {}) for i in found.iris]), reps),
            "recommend_cold_ms": p50(lambda: (forget(store), recommend(store, data)), reps),
            "recommend_rerank_ms": p50(lambda: recommend(store, data), reps),
        }
        rec = recommend(store, data)
        results["recommend_breakdown_ms"] = {k: round(v, 2) for k, v in rec.timings_ms.items()}
        results["pareto_front_size"] = len(rec.pareto_front)
        report["scenarios"][name] = {k: ([round(x, 2) for x in v] if isinstance(v, tuple) else v)  # type: ignore[index]
                                     for k, v in results.items()}
    print(json.dumps(report, indent=2))
    print("(timings are [p50, p90] in ms)")


if __name__ == "__main__":
    main()
