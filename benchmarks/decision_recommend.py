"""The DSS over thousands of candidate models: the facet index, the ranking step and the whole recommend
call, beside anchors measured in the same run.

On a synthetic graph from benchmarks/generate_graph.py (every model has application area, cost, devices,
measured performance with stability; ~22 triples per model) plus user ratings on 10% of the models
(written through kg.writes.write_triples) — or, with ``--store URL``, on an existing store such as the
shipped graph (``dlom init --store oxigraph:///tmp/facets-store``; read only) — it prints:

  * the facet index (decision.facet_index): its build time and memory, also per million models;
and for each scenario:
  * anchor A — the bare retrieval SPARQL query alone (store.select + consuming the rows, no Python objects):
    the engine's floor for answering by query;
  * anchor B — numpy Eq. 1 alone (values @ weights, argsort) over the candidates' objective values;
  * retrieval through the index (new requirements: nothing derived kept, the index current) and by the
    query (no index: what the CLI and remote stores do);
  * the ranking step — decision.recommend.rank_candidates: Eq. 1, the ranking, the Pareto front and the
    top choice's sensitivity over the candidate matrix;
  * objective values — decision.objectives.objective_matrix (derivations + ratings);
  * the whole call — decision.recommend.recommend (validation, AHP, retrieval, ratings, scoring,
    ranking, Pareto, sensitivity, explanations with evidence for the top 5): *first call* through the
    index (new requirements: what was derived for other questions dropped, the store-wide results —
    measured effects of precisions, variant names — kept), *first call after a write* (nothing derived
    kept: those recomputed from the index too), *first call by query* (no index), and *re-ranking* (the
    same requirements again: the candidate set, objective values, Pareto front, tie order and what the
    shown models were read for kept since the first call, until the store changes — kg.derived_results),
    and *re-ranking under moved weights* (new explicit weights at every call, as when a user moves a
    preference in the wizard: the top models change, and those not shown before are read).
And once (they do not depend on the requirements): the measured effects of precisions
(decision.measured_effects, every paired measurement of the store; kept per store generation) from the
index's columns, beside the same by its two SPARQL queries.

Scenarios: 'any' (no constraint: every model is a candidate) and 'paper' (§6: Medical, ≤ $14k for 10
devices, Fig. 8a comparisons); on a given store also README's IoT question and examples/requirements.yaml.
The query-bound figures (anchor A, the retrieval and first call by query) repeat ``query_repetitions``
times (default 3: on the shipped graph one takes seconds), the others ``repetitions`` times.
Usage: python -m benchmarks.decision_recommend [n_models] [repetitions] [--store URL] [--query-repetitions N]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import sys
import time
from collections.abc import Callable, Iterator

import numpy as np
from pyoxigraph import Triple

from benchmarks.generate_graph import TRIPLES_PER_MODEL, generate_graph
from benchmarks.timing import timed_ms
from decision.elicitation import PAPER_EXAMPLE_COMPARISONS
from decision.facet_index import current_index, facet_index, forget_index
from decision.measured_effects import read_measured_effects
from decision.objectives import Objective, objective_matrix
from decision.ratings import mean_ratings, rating_triples
from decision.recommend import preference_weights, rank_candidates, recommend
from decision.requirements import parse_requirements
from decision.retrieval import build_query, retrieve
from kg.derived_results import forget
from kg.errors import QueryTimeoutError
from kg.namespaces import DLOM, PROV, RDF, RDFS, entity
from kg.ontology import ontology_quads
from kg.store import Store, open_store
from kg.terms import literal
from kg.writes import write_triples

FIG_8A = [dict(c) for c in PAPER_EXAMPLE_COMPARISONS]
SCENARIOS = {
    "any": {"preferences": {"comparisons": FIG_8A}},
    "paper": {"project": {"business_focus": "Medical", "total_budget_usd": 14000, "number_of_devices": 10},
              "preferences": {"comparisons": FIG_8A}},
}
SHIPPED_SCENARIOS = {  # README's IoT question; examples/requirements.yaml's keyword spotting
    "readme-iot": {"project": {"purpose": "image classification"}, "device": {"form_factor": "IoT"},
                   "performance": {"max_latency_ms": 5}, "preferences": {"comparisons": FIG_8A}},
    "example-yaml": {"project": {"purpose": "keyword spotting"}, "device": {"min_clock_mhz": 100},
                     "performance": {"min_accuracy": 0.85, "max_latency_ms": 200},
                     "preferred": ["device.min_clock_mhz"], "preferences": {"comparisons": FIG_8A}},
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


def _moved_weights(data: dict) -> Iterator[dict]:
    """``data`` with explicit weights instead of its comparisons, new (seeded) ones at every step."""
    rnd = random.Random(5)
    while True:
        yield {**data, "preferences": {"weights": {o.value: rnd.random() for o in Objective}}}


def _limited(fn: Callable[[], object], reps: int) -> tuple[float, float] | str:
    """:func:`benchmarks.timing.timed_ms`, or what stopped it: a query past its time limit."""
    try:
        return timed_ms(fn, reps)
    except QueryTimeoutError as e:
        return f"not answered: {e}"


def _asked_for_requirements(key: object) -> bool:
    """A derived result kept for one question (its key names the requirements or the candidates), or what
    was read for the models a question showed (kept per model; a new question mostly shows others): what
    a new question computes afresh, while the store-wide ones (measured effects, variant names) stay."""
    return isinstance(key, tuple) and (len(key) > 1 and key[1] is not None
                                       or key[:1] in (("decision.evidence",), ("decision.model_labels",)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_models", nargs="?", type=int, default=10_000)
    parser.add_argument("repetitions", nargs="?", type=int, default=15)
    parser.add_argument("--store", help="an existing store (read only), e.g. oxigraph:///tmp/facets-store")
    parser.add_argument("--query-repetitions", type=int, default=3)
    args = parser.parse_args()
    reps, qreps = args.repetitions, args.query_repetitions
    t0 = time.perf_counter()
    store = open_store(args.store) if args.store else build_store(args.n_models)
    setup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = facet_index(store)
    assert index is not None, "the store keeps no generation: no facet index"
    build_s = time.perf_counter() - t0
    n_models = len(index)
    memory = index.nbytes()
    report: dict[str, object] = {
        "store": args.store or f"synthetic ({args.n_models} models)", "models": n_models, "quads": store.count(),
        "setup_s": round(setup_s, 1), "repetitions": reps, "query_repetitions": qreps,
        "python": platform.python_version(), "machine": platform.machine(),
        "facet_index": {"build_s": round(build_s, 2), "build_s_per_million_models": round(build_s * 1e6 / n_models, 1),
                        "memory_mb": round(memory / 2**20, 1),
                        "memory_mb_per_million_models": round(memory / 2**20 * 1e6 / n_models),
                        "performance_records": len(index.perf_iri), "irregular_models": len(index.irregular)},
        "scenarios": {}}
    scenarios = SCENARIOS | (SHIPPED_SCENARIOS if args.store else {})
    for name, data in scenarios.items():
        req = parse_requirements(data)
        q = build_query(req)
        weights = preference_weights(req).weights

        forget(store)
        found = retrieve(store, req)
        rated = mean_ratings(store)
        values = objective_matrix(found.raw_columns(), [rated.get(i, {}) for i in found.iris]).values

        moved = _moved_weights(data)

        def numpy_eq1() -> object:
            return np.argsort(-(values @ weights))

        results = {
            "candidates": len(found),
            "anchor_numpy_eq1_ms": timed_ms(numpy_eq1, reps),
            "retrieval_index_ms": timed_ms(lambda: (forget(store), retrieve(store, req)), reps),
            "ranking_step_ms": timed_ms(lambda: rank_candidates(values, weights), reps),
            "objective_values_ms": timed_ms(lambda: objective_matrix(found.raw_columns(),
                                                                [rated.get(i, {}) for i in found.iris]), reps),
            # new requirements on a store whose facet index is current (dlom serve builds it at start):
            # what the store-wide results (measured effects, variant names) keep, and after a write
            "recommend_first_index_ms": timed_ms(lambda: recommend(store, data), reps,
                                                 setup=lambda: forget(store, _asked_for_requirements)),
            "recommend_first_after_write_ms": timed_ms(lambda: recommend(store, data), reps,
                                                       setup=lambda: forget(store)),
            "recommend_rerank_ms": timed_ms(lambda: recommend(store, data), reps),
            # new explicit weights at every call: the top models change, and what is read for them
            "recommend_rerank_moved_ms": timed_ms(lambda: recommend(store, next(moved)), reps),
        }
        rec = recommend(store, data)
        results["recommend_breakdown_ms"] = {k: round(v, 2) for k, v in rec.timings_ms.items()}
        results["pareto_front_size"] = len(rec.pareto_front)
        report["scenarios"][name] = results  # type: ignore[index]
        print(name, "through the index:", json.dumps(results), file=sys.stderr, flush=True)  # (a long run's progress)
    report["measured_effects_ms"] = {"index": timed_ms(lambda: (forget(store), read_measured_effects(store)), reps)}
    # then without the index: what answering by query costs (the CLI, remote stores), and its floor
    forget_index(store)
    report["measured_effects_ms"]["query"] = timed_ms(  # type: ignore[index]
        lambda: (forget(store), read_measured_effects(store)), qreps)
    for name, data in scenarios.items():
        req = parse_requirements(data)
        q = build_query(req)

        def bare_query() -> int:
            return sum(1 for _ in store.select(q.text, substitutions=q.params).rows)

        results = report["scenarios"][name]  # type: ignore[index]
        results["anchor_bare_sparql_ms"] = timed_ms(bare_query, qreps)
        # retrieval and recommend stop a query at their time limit (30 s): a figure beyond it is that
        results["retrieval_query_ms"] = _limited(lambda: (forget(store), retrieve(store, req)), qreps)
        results["recommend_first_query_ms"] = _limited(lambda: (forget(store), recommend(store, data)), qreps)
    if not args.store:  # a write of one measurement: the index brought forward, not rebuilt (synthetic only)
        facet_index(store)
        perf = entity("performance", "synthetic", "0", "again")
        write_triples(store, [Triple(entity("model", "synthetic", "0"), DLOM.hasPerformance, perf),
                              Triple(perf, RDF.type, DLOM.MeasuredPerformance),
                              Triple(perf, RDFS.label, literal("a new measurement")),
                              Triple(perf, PROV.wasGeneratedBy, entity("run", "synthetic")),
                              Triple(perf, DLOM.inferenceLatencyMs, literal(1.5))], source="benchmark")
        t0 = time.perf_counter()
        updated = current_index(store)
        report["facet_index"]["update_after_one_write_ms"] = round((time.perf_counter() - t0) * 1000, 1)  # type: ignore[index]
        assert updated is not None, "the index was not brought forward"
    for results in (*report["scenarios"].values(), report["measured_effects_ms"]):  # type: ignore[attr-defined]
        for k, v in results.items():
            if isinstance(v, tuple):
                results[k] = [round(x, 2) for x in v]
    print(json.dumps(report, indent=2))
    print("(timings are [p50, p90] in ms)")


if __name__ == "__main__":
    main()
