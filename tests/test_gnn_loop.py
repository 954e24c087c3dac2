"""``dlom loop``: on a graph of networks the bench cannot build, proposals are recorded as predictions,
nothing is measured (for the reasons the measurement planner gives, the same the service shows), and
the round itself is recorded in the graph; with real bench measurements, a round measures a proposal
on this host, writes it back and retrains."""
from __future__ import annotations

import json

import torch

from gnn.export import export_graph
from gnn.model import ModelConfig
from gnn.train import train_ensemble
from kg.namespaces import SPARQL_PREFIXES
from kg.ontology import ontology_quads
from kg.store import open_store
from measure.loop import run_loop_round
from measure.plan import MeasurementPlanner

from test_gnn_pipeline import build_tiny_graph

torch.set_num_threads(1)


def test_round_without_runnable_devices_is_recorded() -> None:
    s = open_store("oxigraph://")
    s.add(ontology_quads())
    build_tiny_graph(s)
    ens = train_ensemble(export_graph(s), config=ModelConfig(hidden=8, members=2, epochs=5), device=torch.device("cpu"))
    report, after = run_loop_round(s, ens, top_k=2)
    assert after is ens and report.after_version is None  # nothing measured: no retraining
    assert len(report.proposals) == 2 and len(report.not_runnable) == 2
    planner = MeasurementPlanner(s)
    assert [reason for _, reason in report.not_runnable] == [
        planner.why_not(p.dln_iri, p.device_iri, p.technique_iris) for p in report.proposals]
    res = s.select(SPARQL_PREFIXES + """SELECT ?rec WHERE { ?r a dlom:BenchmarkRun , prov:Activity ;
        dlom:sourceRecord ?rec ; prov:startedAtTime ?t0 ; prov:endedAtTime ?t1 . FILTER(CONTAINS(STR(?r), "gnn-loop-round")) }""")
    rows = list(res.rows)
    assert len(rows) == 1
    record = json.loads(rows[0][0].value)
    assert record["predictor_before"] == ens.version and len(record["not_runnable"]) == 2
    assert record["error_before"]["n"] == 0
    s.close()


FAST = {"training": {"epochs": 1}, "measure": {"warmup": 3, "repetitions": 20, "min_time_s": 0.05, "batch_sizes": [1]}}


def test_round_measures_proposals_on_this_host_and_retrains() -> None:
    """Real benchmark runs (tiny settings): three measured configurations on this host, then one round
    proposes an unseen one here, measures it with bench, writes it back, retrains, and reports errors."""
    import math

    from bench.graph import write_result
    from bench.harness import run_benchmark
    from bench.spec import parse_spec

    s = open_store("oxigraph://")
    s.add(ontology_quads())
    for net, techs in [("mlp", []), ("mlp", [{"name": "quantize-dynamic"}]), ("small-cnn", [])]:
        spec = parse_spec({"network": net, "runtime": {"name": "onnxruntime", "threads": 1}, "techniques": techs, **FAST})
        write_result(s, run_benchmark(spec))
    before_models = export_graph(s).count("model")
    ens = train_ensemble(export_graph(s), config=ModelConfig(hidden=8, members=2, epochs=10), device=torch.device("cpu"))
    report, after = run_loop_round(s, ens, top_k=1)
    assert len(report.measured) == 1, report.not_runnable
    m = report.measured[0]
    assert m.measured["inference_latency_ms"] > 0 and m.after is not None
    assert after is not ens and report.after_version == after.version != ens.version
    assert export_graph(s).count("model") == before_models + 1  # the measurement was written back
    b, a = report.errors("before"), report.errors("after")
    assert b["n"] == a["n"] == 1 and math.isfinite(b["mae_ln_latency"]) and math.isfinite(a["mae_ln_latency"])
    s.close()
