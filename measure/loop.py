"""Closing the loop: propose → measure what can be measured here → write back → retrain → compare.

One round:

1. the current predictor proposes the top-k unseen configurations, and they are recorded as predicted
   models (dlom:PredictedPerformance);
2. each proposal that can run on this host is materialized and measured with the benchmark module
   (``bench``): whether it can is decided by :class:`measure.plan.MeasurementPlanner` — the same
   decision the service's listings and measurement jobs make — and the measurement is written to the
   graph through the validated write path (dlom:MeasuredPerformance);
3. the predictor is retrained on the grown graph;
4. the prediction error on the measured configurations before and after retraining is reported, and
   the round is recorded in the graph as a dlom:BenchmarkRun (prov:Activity) whose dlom:sourceRecord
   holds the configurations, the measurements and both errors.

This host and its device settings are described in the graph first (:func:`measure.host.register_host`),
so proposals for this machine exist before anything was measured here. Without the benchmark module
the round stops with :class:`BenchmarkUnavailableError` ("benchmark module unavailable"); with nothing
runnable here it records the proposals and says so.
"""
from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyoxigraph import NamedNode, Triple

from gnn.errors import BenchmarkUnavailableError
from gnn.export import ExportedGraph, export_graph
from gnn.model import ModelConfig, model_batch
from gnn.propose import Proposal, propose, write_proposals
from gnn.train import Ensemble, train_ensemble
from kg.namespaces import DLOM, PROV, RDF, RDFS, entity
from kg.progress import NoProgress, Progress
from kg.store import Store
from kg.terms import literal
from kg.writes import write_triples
from measure.host import register_host
from measure.plan import MeasurementPlanner, NotRunnableHere


@dataclass
class MeasuredProposal:
    proposal: Proposal
    model_iri: str
    measured: dict[str, float | None]
    before: dict[str, float]
    after: dict[str, float] | None = None


@dataclass
class LoopReport:
    round_iri: str
    before_version: str
    after_version: str | None
    proposals: list[Proposal]
    measured: list[MeasuredProposal] = field(default_factory=list)
    not_runnable: list[tuple[str, str]] = field(default_factory=list)

    def errors(self, which: str) -> dict[str, float]:
        """MAE of ln latency (and accuracy where measured) over the measured configurations."""
        rows = [m for m in self.measured if (m.after if which == "after" else m.before) is not None]
        lat = [abs(math.log(p["inference_latency_ms"]) - math.log(m.measured["inference_latency_ms"]))
               for m in rows for p in [m.after if which == "after" else m.before]
               if m.measured.get("inference_latency_ms")]
        acc = [abs(p["accuracy"] - m.measured["accuracy"]) for m in rows
               for p in [m.after if which == "after" else m.before] if m.measured.get("accuracy") is not None]
        return {"mae_ln_latency": float(np.mean(lat)) if lat else float("nan"),
                "mae_accuracy": float(np.mean(acc)) if acc else float("nan"), "n": len(rows)}

    def to_json(self) -> dict[str, Any]:
        return {
            "round": self.round_iri, "predictor_before": self.before_version, "predictor_after": self.after_version,
            "proposals": [p.to_json() for p in self.proposals],
            "measured": [{"proposal": m.proposal.label, "model": m.model_iri, "measured": m.measured,
                          "predicted_before": m.before, "predicted_after": m.after} for m in self.measured],
            "not_runnable": [{"proposal": a, "reason": b} for a, b in self.not_runnable],
            "error_before": _json_safe(self.errors("before")), "error_after": _json_safe(self.errors("after")),
        }


def _bench_api() -> Any:
    try:
        from bench import graph as bench_graph
        from bench.harness import run_benchmark
    except ImportError as e:
        raise BenchmarkUnavailableError(f"benchmark module unavailable ({e}); the loop cannot measure proposals") from None
    return bench_graph, run_benchmark


def _prediction_for_model(ensemble: Ensemble, graph: ExportedGraph, model_iri: str) -> dict[str, float] | None:
    """The retrained predictor's prediction for a stored model, with that model's own measurement and
    edges hidden (leave-self-out), so 'after' is a prediction, not a recall of a training label."""
    i = graph.index["model"].get(model_iri)
    if i is None:
        return None
    keep = np.ones(graph.count("model"), dtype=bool)
    keep[i] = False
    p = ensemble.predict(graph, model_batch(graph, np.array([i])), ensemble.tables(graph, keep))
    return {"inference_latency_ms": float(p.latency_ms[0]), "accuracy": float(p.accuracy[0]),
            "energy_per_inference_uj": float(p.energy_uj[0]), "std_ln_latency_ms": float(p.std[0, 0])}


def run_loop_round(store: Store, ensemble: Ensemble, top_k: int = 5, weights: dict[str, float] | None = None,
                   config: ModelConfig | None = None, progress: Progress = NoProgress()) -> tuple[LoopReport, Ensemble]:
    """One round of the loop (see the module docstring); returns the report and the retrained ensemble
    (the input ensemble when nothing was measured). Raises :class:`BenchmarkUnavailableError` when the
    benchmark module cannot be imported."""
    bench_graph, run_benchmark = _bench_api()
    started = dt.datetime.now(dt.timezone.utc)
    register_host(store)
    planner = MeasurementPlanner(store)
    graph = export_graph(store)
    # Propose among this host's devices (else among all, and the report says none could be measured).
    here = sorted(graph.index["device"][d] for d in planner.devices if d in graph.index["device"])
    proposals = propose(graph, ensemble, weights, top_k, devices=here or None)
    write_proposals(store, proposals, ensemble.version, started)
    round_iri = entity("gnn-loop-round", ensemble.version, started.isoformat())
    report = LoopReport(round_iri.value, ensemble.version, None, proposals)

    for p in proposals:
        try:
            plan = planner.plan(p.dln_iri, p.device_iri, p.technique_iris)
            result = run_benchmark(plan.spec)
            bench_graph.write_result(store, result)
        except NotRunnableHere as e:
            report.not_runnable.append((p.label, str(e)))
            continue
        except Exception as e:  # a technique the bench cannot apply here is a reason, not a crash
            report.not_runnable.append((p.label, f"{type(e).__name__}: {e}"))
            continue
        measured_model = bench_graph.model_iri(plan.spec.network.name, result.key).value
        lat = getattr(result.latency, "p50_ms", None)
        report.measured.append(MeasuredProposal(
            proposal=p, model_iri=measured_model,
            measured={"inference_latency_ms": float(lat) if lat is not None else None,
                      "accuracy": float(result.quality), "energy_per_inference_uj": result.energy_uj},
            before={"inference_latency_ms": p.latency_ms, "accuracy": p.accuracy,
                    "energy_per_inference_uj": p.energy_uj, "std_ln_latency_ms": p.std["ln_latency_ms"]}))

    after = ensemble
    if report.measured:
        grown = export_graph(store)
        after = train_ensemble(grown, config=config or ensemble.config, progress=progress)
        report.after_version = after.version
        for m in report.measured:
            m.after = _prediction_for_model(after, grown, m.model_iri)
            if m.measured["inference_latency_ms"] is None:
                # the bench's latency field name differs: read the measured value back from the graph
                i = grown.index["model"].get(m.model_iri)
                if i is not None and not math.isnan(grown.targets[i, 0]):
                    m.measured["inference_latency_ms"] = float(np.exp(grown.targets[i, 0]))
    _record_round(store, report, started)
    return report, after


def _json_safe(value: Any) -> Any:
    """``value`` with NaN/inf floats as None (rdf:JSON must be valid JSON)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _record_round(store: Store, report: LoopReport, started: dt.datetime) -> None:
    ended = dt.datetime.now(dt.timezone.utc)
    r = NamedNode(report.round_iri)
    record = report.to_json()
    record.pop("proposals")
    record["proposal_labels"] = [p.label for p in report.proposals]
    triples = [
        Triple(r, RDF.type, DLOM.BenchmarkRun),
        Triple(r, RDF.type, PROV.Activity),
        Triple(r, RDFS.label, literal(f"DLOM GNN loop round ({report.before_version})")),
        Triple(r, DLOM.codeVersion, literal(report.after_version or report.before_version)),
        Triple(r, DLOM.sourceRecord, literal(_json_safe(json.loads(json.dumps(record, default=str))))),
        Triple(r, PROV.startedAtTime, literal(started)),
        Triple(r, PROV.endedAtTime, literal(ended)),
    ]
    for m in report.measured:
        triples.append(Triple(r, PROV.used, NamedNode(m.model_iri)))
    write_triples(store, triples, source="GNN loop round")
