"""Prediction for one configuration named by the user: DLN, device and techniques by IRI or label.

Names are resolved by :func:`gnn.entities.resolve` (an ambiguous label is an error listing the
candidates). What is read about the configuration (memory fit, models measured on the device, the
same configuration measured) comes from :func:`gnn.export.export_neighbourhood`, the part of the
graph around the device, so it costs lookups, not an export of every model.

Which predictor scores it — the one place this is decided for ``dlom gnn predict``:

* the ONNX scorer beside the default checkpoint (the user's trained one, else the shipped one,
  :func:`gnn.paths.resolve_checkpoint`), when no checkpoint or ensemble is given and the scorer knows
  every node of the configuration: numpy and onnxruntime only, torch is never imported. When the
  store's graph differs from the one the scorer was built for, the scorer's embeddings of those nodes
  are used and ``scorer_graph`` says so (as decision support's :class:`gnn.onnx_scorer.OnnxCandidatePredictor`
  does without torch);
* otherwise the torch ensemble (the 'gnn' extra) with message passing over the whole exported graph:
  an explicit checkpoint or ensemble, or a configuration with a node the scorer was not built with.

Works for a device with no measurements at all: its embedding comes from its attributes (and its
frameworks) through the same encoder — the cold-start path.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from gnn.entities import Entity, resolve
from gnn.errors import EmptyGraphError
from gnn.export import ExportedGraph, export_neighbourhood, node_iris
from gnn.onnx_scorer import OnnxScorer
from gnn.paths import resolve_checkpoint
from gnn.prediction import Prediction
from gnn.propose import Candidate, compatible, finite_or_none, memory_fit
from kg.namespaces import SPARQL_PREFIXES
from kg.store import Store

if TYPE_CHECKING:  # torch only where the torch ensemble predicts
    from gnn.train import Ensemble


def _score_with_torch(store: Store, ensemble: Ensemble, graph: ExportedGraph | None,
                      entities: Sequence[Entity], fit: bool | None, weight_bytes: float | None) -> Prediction:
    """The ensemble's prediction of the configuration ``entities`` (DLN, device, techniques...) over
    ``graph``, the store's whole export (exported here when None)."""
    from gnn.export import export_graph
    from gnn.propose import candidate_batch

    full = graph or export_graph(store, require_measurements=False)
    dln, device, *techniques = (full.index[e.kind][e.iri] for e in entities)
    return ensemble.predict(full, candidate_batch(full, [Candidate(dln, device, tuple(sorted(techniques)), fit, weight_bytes)]))


def predict_configuration(store: Store, dln: str, device: str, techniques: Sequence[str] = (),
                          checkpoint: Path | None = None, ensemble: Ensemble | None = None,
                          graph: ExportedGraph | None = None) -> dict[str, object]:
    """The predicted metrics of (``dln``, ``device``, ``techniques``) with their uncertainty, as JSON-ready data.

    Scored as the module docstring says: by the ONNX scorer unless ``checkpoint`` (a trained
    checkpoint to load) or ``ensemble`` (a loaded one; ``graph``, the store's whole export with
    tensors, spares exporting it again) is given or the scorer does not know the configuration.
    ``scorer`` in the answer names which one scored it.

    Raises :class:`~gnn.errors.EmptyGraphError` when the store has no DLN or no device,
    :class:`~gnn.errors.UnknownEntityError` for a name that matches nothing or several things,
    :class:`~gnn.errors.NoTrainedModelError` without a trained predictor,
    :class:`~kg.extras.MissingExtraError` when only torch could score it and torch is not installed,
    and ValueError for an inconsistent technique set (two quantizations, ...).
    """
    if not store.ask(SPARQL_PREFIXES + "ASK { ?d a dlom:DLN . ?v a dlom:EndDevice }"):
        raise EmptyGraphError(f"the store {store.url} holds no DLN or no end device: import data first "
                              "(e.g. 'dlom import mlperf-tiny <path>')")
    d, v = resolve(store, "dln", dln), resolve(store, "device", device)
    ts = sorted({t.iri: t for t in (resolve(store, "technique", name) for name in techniques)}.values(), key=lambda e: e.iri)
    around = export_neighbourhood(store, [v.iri], [d.iri], [t.iri for t in ts])
    di, vi = around.index["dln"][d.iri], around.index["device"][v.iri]
    rows = tuple(sorted(around.index["technique"][t.iri] for t in ts))
    if not compatible(around, rows):
        fams = [around.technique_family[t] for t in rows]
        raise ValueError(f"inconsistent techniques: more than one of a family that a model applies once ({', '.join(fams)})")
    fit, weight_bytes = memory_fit(around, di, vi, rows)
    candidate = Candidate(di, vi, rows, fit, weight_bytes)

    scorer = OnnxScorer.beside(resolve_checkpoint()) if checkpoint is None and ensemble is None else None
    if scorer is not None and scorer.knows(around, candidate):
        pred = scorer.score_candidates(around, [candidate])
        version, used = scorer.version, "onnxruntime"
        scorer_graph = None if scorer.built_for(node_iris(store)) else (
            "scored with the embeddings of the graph the prediction model was built for (this store's graph "
            "differs; retrain with 'dlom gnn train' to use what was imported since)")
        method = "spread of the deep ensemble's members"
    else:
        if ensemble is None:
            from kg.extras import require_extra

            require_extra("gnn")
            from gnn.train import Ensemble

            ensemble = Ensemble.load(resolve_checkpoint(checkpoint))
        pred = _score_with_torch(store, ensemble, graph, [d, v, *ts], fit, weight_bytes)
        version, used, scorer_graph = ensemble.version, "torch", None
        method = f"spread of a {len(ensemble.members)}-member deep ensemble"
    m, s = pred.mean[0], pred.std[0]
    measured_on_device = int(np.sum((around.model_device == vi) & around.labeled))
    same = [i for i in range(around.count("model")) if around.configuration_key(i) == (di, vi, rows) and around.labeled[i]]
    measured = None
    if same:
        t = around.targets[same[0]]
        measured = {"inference_latency_ms": None if math.isnan(t[0]) else float(np.exp(t[0])),
                    "accuracy": None if math.isnan(t[1]) else float(t[1]),
                    "energy_per_inference_uj": None if math.isnan(t[2]) else float(np.exp(t[2])),
                    "model": around.iris["model"][same[0]]}
    return finite_or_none({
        "dln": d.to_json(), "device": v.to_json(), "techniques": [t.to_json() for t in ts],
        "predicted": {
            "inference_latency_ms": float(np.exp(m[0])),
            "accuracy": float(np.clip(m[1], 0.0, 1.0)),
            "energy_per_inference_uj": float(np.exp(m[2])),
        },
        "uncertainty": {
            "std_ln_latency_ms": float(s[0]), "std_accuracy": float(s[1]), "std_ln_energy_uj": float(s[2]),
            "latency_ms_1sigma": [float(np.exp(m[0] - s[0])), float(np.exp(m[0] + s[0]))],
            "energy_uj_1sigma": [float(np.exp(m[2] - s[2])), float(np.exp(m[2] + s[2]))],
            "method": method,
        },
        "confidence": float(pred.confidence[0]),
        "high_score_probability": float(pred.high_score[0]),
        "memory_fit": fit, "weight_bytes": weight_bytes,
        "cold_start": measured_on_device == 0,
        "measured_models_on_device": measured_on_device,
        "measured": measured,
        "predictor_version": version,
        "scorer": used,
        "scorer_graph": scorer_graph,
        "note": "predicted, not measured (null: a metric the predictor was never trained on)",
    })
