"""Decision support's 'Build new' path (Fig. 6): a proposal the user picks is recorded as a predicted
model and, when this host can run it with the benchmark module, measured in a background job.

* :func:`rescored_candidate` — the server's own prediction for a (DLN, device, techniques)
  configuration. A client sends back a proposal it received, but what is *stored* as the prediction is
  recomputed here, so a client can never write made-up 'predicted' figures into the graph.
* :func:`propose` — the listing: the prediction model's proposals for a request, without those no
  benchmark host could run, near-identical variants grouped, each labelled and said measurable or not;
* :func:`measurability_of` — for each proposal, whether this host can measure it and, when it cannot,
  why, and whether the same configuration can be measured on this machine instead (one decision:
  :meth:`measure.plan.MeasurementPlanner.plan`, the same the job makes).
* :func:`measure_configuration` — the job body: plan, run the benchmark with its real progress, write
  the measured model and its dlom:MeasuredPerformance through the validated write path, and read the
  measured metrics back from the store.

Nothing is faked: a configuration that cannot run here ends with :class:`NotRunnableHere` and a message
saying why.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pyoxigraph import NamedNode

from decision.diversity import configuration_keys, group_variants
from decision.prediction import PREDICTABLE_METRICS, PredictedCandidate
from decision.requirements import Requirements
from kg.binding import bind
from kg.namespaces import SPARQL_PREFIXES
from kg.progress import PhaseReport
from kg.store import Store
from kg.terms import to_python
from measure.host import HostDevice, host_devices
from measure.plan import MeasurementPlanner, NotRunnableHere

class ProposalError(ValueError):
    """A proposal that does not name a configuration the predictor knows; ``field`` names the part."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


# -- the server's own prediction for a configuration ------------------------------------------------

def rescored_candidate(predictor: Any, dln: str, devices: Sequence[str], techniques: Sequence[str]) -> PredictedCandidate:
    """The predictor's prediction for exactly this configuration (one device), as stored.

    ``predictor`` is a :class:`gnn.onnx_scorer.OnnxCandidatePredictor` (it has the exported ``graph``
    and the ``scorer``). Raises :class:`ProposalError` naming the field when the DLN, device or a
    technique is not one the predictor's graph knows, or when not exactly one device is given."""
    import numpy as np

    from gnn.onnx_scorer import UnknownToScorerError
    from gnn.propose import Candidate, Proposal, memory_fit, predicted_candidate

    graph = getattr(predictor, "graph", None)
    scorer = getattr(predictor, "scorer", None)
    if graph is None or scorer is None:
        raise ProposalError("proposal", "this server's predictor cannot score a single configuration")
    if len(devices) != 1:
        raise ProposalError("proposal.devices", f"a proposal names exactly one device, got {len(devices)}")
    d = graph.index["dln"].get(dln)
    if d is None:
        raise ProposalError("proposal.dln", f"unknown DLN <{dln}>: not in the graph the predictor was built from")
    v = graph.index["device"].get(devices[0])
    if v is None:
        raise ProposalError("proposal.devices", f"unknown device <{devices[0]}>: not in the graph the predictor was built from")
    ts = []
    for i, t in enumerate(techniques):
        row = graph.index["technique"].get(t)
        if row is None:
            raise ProposalError(f"proposal.techniques.{i}", f"unknown technique <{t}>: not in the graph the predictor was built from")
        ts.append(row)
    fit, wb = memory_fit(graph, d, v, ts)
    cand = Candidate(d, v, tuple(sorted(ts)), fit, wb)
    try:  # torch-free: a scorer built for another graph scores the nodes it knows, names one it does not
        pred = scorer.score_candidates(graph, [cand])
    except UnknownToScorerError as e:
        raise ProposalError("proposal", str(e)) from None
    proposal = Proposal(
        rank=1, dln_iri=dln, dln_label=graph.labels["dln"][d], device_iri=devices[0], device_label=graph.labels["device"][v],
        technique_iris=tuple(graph.iris["technique"][t] for t in cand.techniques),
        technique_labels=tuple(graph.labels["technique"][t] for t in cand.techniques),
        latency_ms=float(pred.latency_ms[0]), accuracy=float(pred.accuracy[0]), energy_uj=float(pred.energy_uj[0]),
        std={"ln_latency_ms": float(pred.std[0, 0]), "accuracy": float(pred.std[0, 1]), "ln_energy_uj": float(pred.std[0, 2])},
        confidence=float(np.clip(pred.confidence[0], 0.0, 1.0)), high_score_probability=float(pred.high_score[0]),
        score=float("nan"), memory_fit=fit, weight_bytes=wb)
    candidate = predicted_candidate(proposal, predictor.version)
    candidate.notes.pop("eq1_score", None)  # Eq. 1 is relative to a candidate set; a lone rescore has none
    return candidate


# -- measuring on this host -------------------------------------------------------------------------

@dataclass(frozen=True)
class Measurability:
    """Whether this host can measure a proposal: ``why_not`` is None when it can; else the reason, and
    ``on_this_machine`` this host's device where the same network and techniques can be measured."""

    why_not: str | None
    on_this_machine: HostDevice | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields a proposal carries in the API: ``measurable_here``, ``not_measurable_because``,
        ``on_this_machine`` ({device, label} or None)."""
        there = self.on_this_machine
        return {"measurable_here": self.why_not is None, "not_measurable_because": self.why_not,
                "on_this_machine": {"device": there.iri, "label": there.label} if there else None}


def measurability_of(store: Store, candidates: Sequence[PredictedCandidate],
                     planner: MeasurementPlanner | None = None) -> list[Measurability]:
    """For each predicted configuration: whether this host's benchmark can measure it, and where not,
    why and whether it can be measured on this machine instead (``planner``: one already reading
    ``store``, so its lookups are shared)."""
    planner = planner or MeasurementPlanner(store)
    out = []
    for c in candidates:
        if len(c.devices) != 1:
            out.append(Measurability("it names more than one device"))
            continue
        why_not = planner.why_not(c.dln, c.devices[0], c.techniques)
        out.append(Measurability(why_not, planner.on_this_machine(c.dln, c.techniques) if why_not else None))
    return out


@dataclass
class ListedProposal:
    """One proposal as listed: the prediction, the labels of its DLN, device and techniques (from the
    predictor's graph), whether this host can measure it, and its near-identical variants (same DLN
    family, hardware and technique families: :func:`decision.diversity.configuration_keys`), best first."""

    candidate: PredictedCandidate
    labels: dict[str, Any]
    measurability: Measurability
    similar: list[PredictedCandidate] = field(default_factory=list)


@dataclass
class Proposals:
    """What :func:`propose` answers: the proposals shown and, when there are none, why."""

    proposals: list[ListedProposal]
    message: str | None


CANDIDATE_POOL = 50
"""How many of the predictor's best configurations :func:`propose` filters and groups into its answer."""


def labels_of(predictor: Any, candidate: PredictedCandidate) -> dict[str, Any]:
    """``dln_label``, ``device_labels`` and ``technique_labels`` of ``candidate``, from the graph of
    ``predictor`` (an :class:`gnn.onnx_scorer.OnnxCandidatePredictor`); an IRI it does not hold is its
    own label."""
    graph = getattr(predictor, "graph", None)

    def label(node_type: str, iri: str) -> str:
        row = graph.index[node_type].get(iri) if graph is not None else None
        return graph.labels[node_type][row] if row is not None else iri

    return {"dln_label": label("dln", candidate.dln), "device_labels": [label("device", d) for d in candidate.devices],
            "technique_labels": [label("technique", t) for t in candidate.techniques]}


def propose(store: Store, predictor: Any, requirements: Requirements, limit: int,
            measurable_only: bool = False) -> Proposals:
    """Build new's listing: up to ``limit`` groups of the prediction model's unseen configurations
    meeting ``requirements`` (the predictor applies them), best first, each with its labels and
    whether this host can measure it.

    Never proposed are configurations on a benchmark host whose network the bench cannot build or whose
    techniques it cannot re-apply (a host runs only what the bench builds: such a prediction describes
    nothing that can exist); with ``measurable_only`` (only this host's devices are asked for), of the
    predictor's best :data:`CANDIDATE_POOL` those this host cannot measure are dropped. Near-identical variants
    of one configuration are grouped under the best one ("n more like this"), so the ``limit`` shown
    differ. Raises what ``predictor.predict`` raises (e.g. :class:`decision.elicitation.PreferenceError`)."""
    planner = MeasurementPlanner(store)
    hosts = getattr(predictor, "hosts", frozenset())  # the predictor's graph's dlom:BenchmarkHost devices
    buildable: dict[tuple[str, tuple[str, ...]], bool] = {}  # one answer per network and techniques

    def runnable(dln: str, device: str, techniques: tuple[str, ...]) -> bool:
        if device not in hosts:
            return True
        if (dln, techniques) not in buildable:
            buildable[dln, techniques] = planner.buildable_why_not(dln, techniques) is None
        return buildable[dln, techniques]

    candidates = predictor.predict(requirements, limit=CANDIDATE_POOL,
                                   only_devices=host_devices() if measurable_only else None, keep=runnable)
    kept = [(c, m) for c, m in zip(candidates, measurability_of(store, candidates, planner))
            if not (measurable_only and m.why_not)]
    keys = configuration_keys(store, [(c.dln, c.devices[0] if c.devices else "", c.techniques) for c, _ in kept])
    groups = group_variants(np.arange(len(kept)), keys, limit)
    shown = []
    for g in groups:
        candidate, measurability = kept[g.representative]
        shown.append(ListedProposal(candidate, labels_of(predictor, candidate), measurability, [kept[i][0] for i in g.members]))
    message = None
    if not shown:
        message = "the prediction model proposes no unseen configuration meeting these requirements"
        if measurable_only:
            message += f" that this server can measure on its own devices (among the top {CANDIDATE_POOL} there)"
    return Proposals(shown, message)


def measured_metrics(store: Store, model: str) -> dict[str, float]:
    """The stored dlom:MeasuredPerformance values of ``model`` (ontology property names)."""
    res = store.select(bind(SPARQL_PREFIXES + """
        SELECT ?prop ?value WHERE { ?m dlom:hasPerformance ?p . ?p a dlom:MeasuredPerformance ; ?prop ?value .
                                    FILTER(isLiteral(?value)) }""", {"m": NamedNode(model)}))
    out: dict[str, float] = {}
    for prop, value in res.rows:
        name = prop.value.rsplit("#", 1)[-1]
        v = to_python(value)
        if name in PREDICTABLE_METRICS or name in ("stability", "throughputIps"):
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[name] = float(v)
    return out


def measure_configuration(store: Store, dln: str, device: str, techniques: Sequence[str], report: PhaseReport,
                          result: dict[str, Any], overrides: Mapping[str, Any] | None = None) -> str:
    """Job body: plan the measurement of the configuration on ``device`` (an IRI of this host), run the
    benchmark reporting its phases, write the result through the validated write path, and put
    ``model`` (the measured model's IRI) and ``metrics`` (measured values read back from the store) into
    ``result``. Raises :class:`NotRunnableHere` (prefixed 'not measured: ') when it cannot run here."""
    report(0.02, "checking whether this host can run the configuration")
    try:
        plan = MeasurementPlanner(store, overrides=overrides).plan(dln, device, techniques)
    except NotRunnableHere as e:
        raise NotRunnableHere(f"not measured: {e}") from None
    from bench import graph as bench_graph
    from bench.harness import run_benchmark

    def bench_progress(fraction: float, phase: str) -> None:  # the bench's own phases span 5–95 %
        report(0.05 + 0.9 * fraction, phase)

    bench_result = run_benchmark(plan.spec, progress=bench_progress)
    report(0.96, "writing the measurement to the knowledge graph")
    bench_graph.write_result(store, bench_result)
    model = bench_graph.model_iri(plan.spec.network.name, bench_result.key).value
    result["model"] = model
    result["metrics"] = measured_metrics(store, model)
    return f"measured on this host and stored as {model}"
