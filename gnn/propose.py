"""New configurations nobody has measured: generate, predict, rank (Eq. 1), and record as predictions.

Candidates are (DLN, device, technique set) combinations that are consistent with the ontology:

* the DLN's task has run on that device before: a device is offered the DLNs whose task (dlom:task;
  a DLN without one counts as its own task) one of its measured models has, so a keyword-spotting
  network is proposed on the microcontrollers that ran keyword spotting, not a segmentation network on
  a benchmark host; a device never measured has no such record and is offered every DLN (cold start);
* at most one technique of each family (e.g. one quantization per model);
* the technique set is one already used on that device (techniques such as a vendor's model compiler
  belong to a toolchain; a device never measured borrows the sets of devices that share one of its
  frameworks, else gets none);
* the weights must fit the device: parameters × bytes per weight (bit width / 8 of the quantization;
  4 bytes when nothing is quantized) ≤ the device's largest stated memory (RAM or flash — MCUs
  execute weights from flash). When the parameters, the bit width or the device's memory are unknown
  the fit is *unverified* (``memory_fit = None``), kept and marked, never assumed;
* not already stored as a model.

Ranking: the predicted metrics become :class:`decision.objectives.RawColumns` (one column per raw measure), the six 1-5 objective
values over the candidate set come from :func:`decision.objectives.objective_matrix`, and the score is
Eq. 1 (:func:`decision.scoring.overall_scores`) under the user's weights.

Recording: :func:`write_proposals` stores each proposal as a dlom:Model with a
dlom:PredictedPerformance (confidence, predictor version, prov:wasGeneratedBy an activity that is a
dlom:BenchmarkRun describing the GNN version) through :func:`kg.writes.write_triples` — never a
dlom:MeasuredPerformance.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from pyoxigraph import Triple

from decision.objectives import OBJECTIVES, Objective, objective_matrix
from decision.prediction import PredictedCandidate, predicted_model_triples
from decision.scoring import overall_scores, ranking
from gnn.export import ExportedGraph
from gnn.prediction import Prediction, configuration_columns, readout_inputs
from kg.namespaces import DLOM, RDF, RDFS
from kg.store import Store
from kg.terms import literal
from kg.writes import write_triples

if TYPE_CHECKING:  # torch (the 'gnn' extra) only where the torch ensemble predicts; serving is torch-free
    from gnn.model import CandidateBatch
    from gnn.train import Ensemble

FP32_BYTES = 4.0
SINGLE_FAMILIES = frozenset({"Quantization", "Pruning", "KnowledgeDistillation", "TensorDecomposition", "FineTuning"})


@dataclass(frozen=True)
class Candidate:
    """A configuration to score (rows of the exported graph)."""

    dln: int
    device: int
    techniques: tuple[int, ...]
    memory_fit: bool | None
    weight_bytes: float | None


@dataclass
class Proposal:
    """A ranked, predicted configuration."""

    rank: int
    dln_iri: str
    dln_label: str
    device_iri: str
    device_label: str
    technique_iris: tuple[str, ...]
    technique_labels: tuple[str, ...]
    latency_ms: float
    accuracy: float
    energy_uj: float
    std: dict[str, float]
    confidence: float
    high_score_probability: float
    score: float
    memory_fit: bool | None
    weight_bytes: float | None

    @property
    def label(self) -> str:
        techs = " + ".join(self.technique_labels) if self.technique_labels else "no optimization"
        return f"{self.dln_label} on {self.device_label} with {techs}"

    def to_json(self) -> dict[str, object]:
        """JSON-ready data; a metric the predictor was never trained on is null."""
        return finite_or_none({
            "rank": self.rank, "dln": self.dln_iri, "dln_label": self.dln_label, "device": self.device_iri,
            "device_label": self.device_label, "techniques": list(self.technique_iris),
            "technique_labels": list(self.technique_labels),
            "predicted": {"inference_latency_ms": self.latency_ms, "accuracy": self.accuracy,
                          "energy_per_inference_uj": self.energy_uj},
            "uncertainty_std": self.std, "confidence": self.confidence,
            "high_score_probability": self.high_score_probability, "score": self.score,
            "memory_fit": self.memory_fit, "weight_bytes": self.weight_bytes,
        })


def finite_or_none(value: object) -> object:
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_none(v) for v in value]
    return value


def compatible(graph: ExportedGraph, techniques: Sequence[int]) -> bool:
    """At most one technique of each single-use family (one quantization, one pruning, ...)."""
    fams = [graph.technique_family[t] for t in techniques if graph.technique_family[t] in SINGLE_FAMILIES]
    return len(fams) == len(set(fams))


def bytes_per_weight(graph: ExportedGraph, techniques: Sequence[int]) -> float | None:
    """Bytes per stored weight: the quantization's bit width / 8; fp32 (4) without quantization; None
    when a quantization is applied whose bit width is not recorded."""
    quant = [t for t in techniques if graph.technique_family[t] == "Quantization"]
    if not quant:
        return FP32_BYTES
    bw = graph.attrs["technique"][quant[0]].get("bitWidth")
    return float(bw) / 8.0 if isinstance(bw, int | float) and not isinstance(bw, bool) else None


def memory_fit(graph: ExportedGraph, dln: int, device: int, techniques: Sequence[int]) -> tuple[bool | None, float | None]:
    """(fits, weight bytes): None where parameters, bit width or device memory are unknown."""
    params = graph.attrs["dln"][dln].get("numberOfParameters")
    bpw = bytes_per_weight(graph, techniques)
    a = graph.attrs["device"][device]
    caps = [float(a[k]) for k in ("memoryKB", "storageKB") if isinstance(a.get(k), int | float)]
    if not isinstance(params, int | float) or bpw is None:
        return None, None
    weight_bytes = float(params) * bpw
    if not caps:
        return None, weight_bytes
    return weight_bytes <= max(caps) * 1024.0, weight_bytes


def technique_sets(graph: ExportedGraph, device: int) -> list[tuple[int, ...]]:
    """The technique sets usable on ``device`` (see the module docstring), deterministic order."""
    own = {tuple(sorted(graph.model_techniques[i])) for i in np.flatnonzero(graph.model_device == device)}
    if not own:
        fws = set(graph.device_frameworks[device])
        peers = {d for d in range(graph.count("device")) if d != device and fws & set(graph.device_frameworks[d])}
        own = {tuple(sorted(graph.model_techniques[i])) for i in range(graph.count("model"))
               if int(graph.model_device[i]) in peers}
    own = {s for s in own if compatible(graph, s)}
    return sorted(own) or [()]


def _task_key(graph: ExportedGraph, dln: int) -> str:
    """What a DLN does, for matching it to devices: its dlom:task, else the DLN itself."""
    task = graph.attrs["dln"][dln].get("task")
    return f"task:{str(task).strip().lower()}" if task else f"dln:{dln}"


def generate_candidates(graph: ExportedGraph, dlns: Sequence[int] | None = None, devices: Sequence[int] | None = None,
                        include_unfit: bool = False) -> list[Candidate]:
    """Every consistent, not-yet-stored configuration over ``dlns`` × ``devices`` (default: all)."""
    existing = {graph.configuration_key(i) for i in range(graph.count("model"))}
    task = [_task_key(graph, d) for d in range(graph.count("dln"))]
    ran: dict[int, set[str]] = {}
    for i in range(graph.count("model")):
        ran.setdefault(int(graph.model_device[i]), set()).add(task[int(graph.model_dln[i])])
    out: list[Candidate] = []
    for v in (range(graph.count("device")) if devices is None else devices):
        sets = technique_sets(graph, v)
        tasks = ran.get(v)
        for d in (range(graph.count("dln")) if dlns is None else dlns):
            if tasks is not None and task[d] not in tasks:
                continue
            for s in sets:
                if (d, v, s) in existing:
                    continue
                fit, wb = memory_fit(graph, d, v, s)
                if fit is False and not include_unfit:
                    continue
                out.append(Candidate(d, v, s, fit, wb))
    return out


def candidate_inputs(graph: ExportedGraph, candidates: Sequence[Candidate]) -> dict[str, np.ndarray]:
    """The read-out inputs of ``candidates`` as arrays (:data:`gnn.prediction.READOUT_INPUTS`);
    frameworks are the device's, clouds none."""
    return readout_inputs([c.dln for c in candidates], [c.device for c in candidates],
                          [list(c.techniques) for c in candidates],
                          [graph.device_frameworks[c.device] for c in candidates], [[] for _ in candidates],
                          (graph.count("technique"), graph.count("framework"), graph.count("cloud")))


def candidate_batch(graph: ExportedGraph, candidates: Sequence[Candidate]) -> CandidateBatch:
    """:func:`candidate_inputs` as the torch ensemble's :class:`gnn.model.CandidateBatch`."""
    import torch

    from gnn.model import CandidateBatch

    return CandidateBatch(**{k: torch.from_numpy(v) for k, v in candidate_inputs(graph, candidates).items()})


def normalized_weights(weights: Mapping[Objective | str, float] | None) -> np.ndarray:
    """Eq.-1 weights in :data:`OBJECTIVES` order, summing to 1 (equal when none are given)."""
    if not weights:
        return np.full(len(OBJECTIVES), 1.0 / len(OBJECTIVES))
    w = np.zeros(len(OBJECTIVES))
    for k, v in weights.items():
        obj = k if isinstance(k, Objective) else Objective(str(k).lower())
        if v < 0:
            raise ValueError(f"weight of {obj.value} must be ≥ 0, got {v}")
        w[OBJECTIVES.index(obj)] = float(v)
    if w.sum() <= 0:
        raise ValueError("at least one weight must be positive")
    return w / w.sum()


def eq1_scores(graph: ExportedGraph, candidates: Sequence[Candidate], mean: np.ndarray,
               weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eq. 1 of each candidate from its predicted metrics, and the 1-5 objective values (scaled over
    the candidate set) it was computed from."""
    columns = configuration_columns(graph, [c.dln for c in candidates], [c.device for c in candidates],
                                    [len(c.techniques) for c in candidates], mean)
    values = objective_matrix(columns).values
    return overall_scores(values, weights), values


def rank_candidates(graph: ExportedGraph, candidates: Sequence[Candidate], prediction: Prediction,
                    weights: Mapping[Objective | str, float] | None = None, top_k: int = 10) -> list[Proposal]:
    """The ``top_k`` candidates by Eq.-1 score of their predicted metrics (ties: higher confidence)."""
    if not candidates:
        return []
    w = normalized_weights(weights)
    scores, values = eq1_scores(graph, candidates, prediction.mean, w)
    order = ranking(scores, values=values, tie_breakers=[prediction.confidence])
    out = []
    for r, i in enumerate(order[:top_k]):
        c = candidates[int(i)]
        out.append(Proposal(
            rank=r + 1, dln_iri=graph.iris["dln"][c.dln], dln_label=graph.labels["dln"][c.dln],
            device_iri=graph.iris["device"][c.device], device_label=graph.labels["device"][c.device],
            technique_iris=tuple(graph.iris["technique"][t] for t in c.techniques),
            technique_labels=tuple(graph.labels["technique"][t] for t in c.techniques),
            latency_ms=float(prediction.latency_ms[i]), accuracy=float(prediction.accuracy[i]),
            energy_uj=float(prediction.energy_uj[i]),
            std={"ln_latency_ms": float(prediction.std[i, 0]), "accuracy": float(prediction.std[i, 1]),
                 "ln_energy_uj": float(prediction.std[i, 2])},
            confidence=float(prediction.confidence[i]), high_score_probability=float(prediction.high_score[i]),
            score=float(scores[i]), memory_fit=c.memory_fit, weight_bytes=c.weight_bytes))
    return out


def propose(graph: ExportedGraph, ensemble: Ensemble, weights: Mapping[Objective | str, float] | None = None,
            top_k: int = 10, dlns: Sequence[int] | None = None, devices: Sequence[int] | None = None) -> list[Proposal]:
    """Generate, predict and rank unseen configurations with the torch ensemble."""
    candidates = generate_candidates(graph, dlns, devices)
    if not candidates:
        return []
    prediction = ensemble.predict(graph, candidate_batch(graph, candidates))
    return rank_candidates(graph, candidates, prediction, weights, top_k)


def predicted_candidate(p: Proposal, version: str) -> PredictedCandidate:
    """The decision-support record of a proposal (metric names are ontology property names)."""
    return PredictedCandidate(
        label=p.label, dln=p.dln_iri, devices=(p.device_iri,),
        metrics={k: v for k, v in (("inferenceLatencyMs", p.latency_ms), ("accuracy", p.accuracy),
                                   ("energyPerInferenceUj", p.energy_uj)) if np.isfinite(v)},
        confidence=p.confidence, predictor_version=version, techniques=p.technique_iris,
        notes={"std_ln_latency_ms": f"{p.std['ln_latency_ms']:.4f}", "std_accuracy": f"{p.std['accuracy']:.4f}",
               "std_ln_energy_uj": f"{p.std['ln_energy_uj']:.4f}", "eq1_score": f"{p.score:.4f}",
               "memory_fit": "unverified" if p.memory_fit is None else str(p.memory_fit).lower()})


def prediction_triples(p: PredictedCandidate, at: dt.datetime) -> tuple[str, list[Triple]]:
    """decision.prediction's triples for one predicted model, plus what makes the activity a
    dlom:BenchmarkRun describing the GNN (code version, software versions) and the uncertainty."""
    import torch
    import torch_geometric

    model, triples = predicted_model_triples(p, at)
    activity = next(t.object for t in triples if t.predicate.value.endswith("wasGeneratedBy"))
    perf = next(t.object for t in triples if t.predicate == DLOM.hasPerformance)
    triples += [
        Triple(activity, RDF.type, DLOM.BenchmarkRun),
        Triple(activity, DLOM.codeVersion, literal(p.predictor_version)),
        Triple(activity, DLOM.softwareVersions, literal(f"torch {torch.__version__}; torch_geometric {torch_geometric.__version__}")),
        Triple(perf, RDFS.comment, literal("GNN ensemble prediction; std over members: " +
                                           ", ".join(f"{k}={v}" for k, v in sorted(p.notes.items())))),
    ]
    return model.value, triples


def write_proposals(store: Store, proposals: Sequence[Proposal], version: str, at: dt.datetime | None = None) -> list[str]:
    """Record proposals as predicted models in one validated write; returns the model IRIs."""
    at = at or dt.datetime.now(dt.timezone.utc)
    iris, triples = [], []
    for p in proposals:
        iri, t = prediction_triples(predicted_candidate(p, version), at)
        iris.append(iri)
        triples += t
    if triples:
        write_triples(store, triples, source=f"GNN proposals ({version})")
    return iris

