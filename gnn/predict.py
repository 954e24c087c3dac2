"""Prediction for one configuration named by the user: DLN, device and techniques by IRI or label.

Works for a device with no measurements at all: its embedding comes from its attributes (and its
frameworks) through the same encoder — the cold-start path.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gnn.errors import EmptyGraphError
from gnn.export import ExportedGraph, export_graph
from gnn.propose import Candidate, finite_or_none, candidate_batch, compatible, memory_fit, resolve
from gnn.train import Ensemble
from kg.store import Store


def predict_configuration(store: Store, ensemble: Ensemble, dln: str, device: str,
                          techniques: Sequence[str] = (), graph: ExportedGraph | None = None) -> dict[str, object]:
    """The predicted metrics of (``dln``, ``device``, ``techniques``) with their uncertainty, as JSON-ready data.

    Raises :class:`~gnn.errors.EmptyGraphError` when the store has no DLN or no device,
    :class:`~gnn.errors.UnknownEntityError` for a name that matches nothing (or several things), and
    ValueError for an inconsistent technique set (two quantizations, ...).
    """
    graph = graph or export_graph(store, require_measurements=False)
    if graph.count("dln") == 0 or graph.count("device") == 0:
        raise EmptyGraphError(f"the store {store.url} holds no DLN or no end device: import data first "
                              "(e.g. 'dlom import mlperf-tiny <path>')")
    d = resolve(graph, "dln", dln)
    v = resolve(graph, "device", device)
    ts = tuple(sorted({resolve(graph, "technique", t) for t in techniques}))
    if not compatible(graph, ts):
        fams = [graph.technique_family[t] for t in ts]
        raise ValueError(f"inconsistent techniques: more than one of a family that a model applies once ({', '.join(fams)})")
    fit, weight_bytes = memory_fit(graph, d, v, ts)
    pred = ensemble.predict(graph, candidate_batch(graph, [Candidate(d, v, ts, fit, weight_bytes)]))
    m, s = pred.mean[0], pred.std[0]
    measured_on_device = int(np.sum((graph.model_device == v) & graph.labeled))
    same = [i for i in range(graph.count("model")) if graph.configuration_key(i) == (d, v, ts) and graph.labeled[i]]
    measured = None
    if same:
        t = graph.targets[same[0]]
        measured = {"inference_latency_ms": None if math.isnan(t[0]) else float(np.exp(t[0])),
                    "accuracy": None if math.isnan(t[1]) else float(t[1]),
                    "energy_per_inference_uj": None if math.isnan(t[2]) else float(np.exp(t[2])),
                    "model": graph.iris["model"][same[0]]}
    return finite_or_none({
        "dln": {"iri": graph.iris["dln"][d], "label": graph.labels["dln"][d]},
        "device": {"iri": graph.iris["device"][v], "label": graph.labels["device"][v]},
        "techniques": [{"iri": graph.iris["technique"][t], "label": graph.labels["technique"][t]} for t in ts],
        "predicted": {
            "inference_latency_ms": float(np.exp(m[0])),
            "accuracy": float(np.clip(m[1], 0.0, 1.0)),
            "energy_per_inference_uj": float(np.exp(m[2])),
        },
        "uncertainty": {
            "std_ln_latency_ms": float(s[0]), "std_accuracy": float(s[1]), "std_ln_energy_uj": float(s[2]),
            "latency_ms_1sigma": [float(np.exp(m[0] - s[0])), float(np.exp(m[0] + s[0]))],
            "energy_uj_1sigma": [float(np.exp(m[2] - s[2])), float(np.exp(m[2] + s[2]))],
            "method": f"spread of a {len(ensemble.members)}-member deep ensemble",
        },
        "confidence": float(pred.confidence[0]),
        "high_score_probability": float(pred.high_score[0]),
        "memory_fit": fit, "weight_bytes": weight_bytes,
        "cold_start": measured_on_device == 0,
        "measured_models_on_device": measured_on_device,
        "measured": measured,
        "predictor_version": ensemble.version,
        "note": "predicted, not measured (null: a metric the predictor was never trained on)",
    })
