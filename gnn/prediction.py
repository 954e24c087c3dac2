"""The ensemble's predictions as numpy arrays, and the read-out inputs of configurations — torch-free.

Everything here is shared by training (:mod:`gnn.train`, which needs torch) and by serving (the ONNX
scorer of :mod:`gnn.onnx_scorer`, which needs only numpy and onnxruntime), so a core install
(``pip install dlom``, no torch) can score configurations with the shipped predictor.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from decision.objectives import RawColumns
from gnn.export import ExportedGraph

# The read-out inputs of a batch of configurations, in the ONNX scorer's input order (the fields of
# gnn.model.CandidateBatch have the same names).
READOUT_INPUTS: tuple[str, ...] = ("dln", "device", "techniques", "frameworks", "clouds")


def multi_hot_rows(sets: Sequence[Sequence[int]], width: int) -> np.ndarray:
    """Dense float32 multi-hot rows with one leading padding column: column ``j + 1`` is node ``j``,
    column 0 is never set (so a table with no nodes still has a shape ONNX can carry)."""
    out = np.zeros((len(sets), width + 1), dtype=np.float32)
    for i, s in enumerate(sets):
        for j in s:
            out[i, j + 1] = 1.0
    return out


def readout_inputs(dlns: Sequence[int], devices: Sequence[int], techniques: Sequence[Sequence[int]],
                   frameworks: Sequence[Sequence[int]], clouds: Sequence[Sequence[int]],
                   widths: tuple[int, int, int]) -> dict[str, np.ndarray]:
    """The arrays of :data:`READOUT_INPUTS` for configurations given as rows of one graph;
    ``widths`` are that graph's (technique, framework, cloud) node counts."""
    return {"dln": np.asarray(dlns, dtype=np.int64).reshape(-1), "device": np.asarray(devices, dtype=np.int64).reshape(-1),
            "techniques": multi_hot_rows(techniques, widths[0]), "frameworks": multi_hot_rows(frameworks, widths[1]),
            "clouds": multi_hot_rows(clouds, widths[2])}


def _attribute_column(rows: Sequence[dict], key: str) -> np.ndarray:
    """One numeric attribute of every node of a type (NaN where it is not a number)."""
    return np.array([float(a[key]) if isinstance(a.get(key), int | float) and not isinstance(a.get(key), bool)
                     else np.nan for a in rows], dtype=float)


def configuration_columns(graph: ExportedGraph, dlns: Sequence[int] | np.ndarray, devices: Sequence[int] | np.ndarray,
                          technique_counts: Sequence[int] | np.ndarray, metrics: np.ndarray) -> RawColumns:
    """The raw measures of configurations (row ``i``: DLN ``dlns[i]`` on device ``devices[i]`` with
    ``technique_counts[i]`` techniques) for :func:`decision.objectives.objective_matrix`, as columns:
    ``metrics`` rows are (ln latency, accuracy, ln energy) — measured or predicted — NaN where unknown.
    Vectorized: proposals score every unseen configuration (100k on the shipped graph) at once."""
    dln, dev = np.asarray(dlns, dtype=np.int64), np.asarray(devices, dtype=np.int64)
    m = np.asarray(metrics, dtype=float).reshape(len(dln), -1)
    d_attrs, v_attrs = graph.attrs["dln"], graph.attrs["device"]
    nan = np.full(len(dln), np.nan)
    return RawColumns(
        accuracy=np.clip(m[:, 1], 0.0, 1.0), stability=nan, latency_cv=nan, has_cloud=np.zeros(len(dln), dtype=bool),
        shielded_execution=nan, security_protocol=[None] * len(dln), cost_usd=nan,
        cost_per_device_usd=_attribute_column(v_attrs, "priceUsd")[dev], inference_latency_ms=np.exp(m[:, 0]),
        system_latency_ms=nan, parameters=_attribute_column(d_attrs, "numberOfParameters")[dln],
        macs=_attribute_column(d_attrs, "macs")[dln], layers=_attribute_column(d_attrs, "numberOfLayers")[dln],
        techniques=np.asarray(technique_counts, dtype=float).reshape(-1), technique_classes=None)


@dataclass
class Prediction:
    """Ensemble predictions: ``mean``/``std`` per :data:`gnn.export.METRICS` (ln ms, 0-1, ln µJ) and
    the probability of a high objective score (the link head)."""

    mean: np.ndarray
    std: np.ndarray
    high_score: np.ndarray

    @property
    def latency_ms(self) -> np.ndarray:
        return np.exp(self.mean[:, 0])

    @property
    def accuracy(self) -> np.ndarray:
        return np.clip(self.mean[:, 1], 0.0, 1.0)

    @property
    def energy_uj(self) -> np.ndarray:
        return np.exp(self.mean[:, 2])

    @property
    def confidence(self) -> np.ndarray:
        """1 / (1 + σ of ln latency): 1 when the members agree, 0.5 when they disagree by a factor e."""
        return 1.0 / (1.0 + self.std[:, 0])


def mask_untrained(prediction: Prediction, metric_trained: Sequence[bool]) -> Prediction:
    """``prediction`` with NaN for the metrics no training row measured."""
    untrained = ~np.asarray(metric_trained, dtype=bool)
    if untrained.any():
        prediction.mean[:, untrained] = np.nan
        prediction.std[:, untrained] = np.nan
    return prediction
