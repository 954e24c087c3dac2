"""Export of the trained ensemble to the ONNX scorer of :mod:`gnn.onnx_scorer` (needs torch: the 'gnn' extra).

Serving never imports this module when the scorer on disk was built for the store's graph: a core
install (no torch) scores with onnxruntime only. It is used when training writes the scorer and when a
server with torch rebuilds the scorer for a graph that differs from the one it was built for.
"""
from __future__ import annotations

import io
import warnings

import torch
from torch import Tensor, nn

from gnn.export import ExportedGraph
from gnn.model import READOUT_PARTS, first_layer, mean_operator, project_parts
from gnn.onnx_scorer import INPUT_NAMES, OUTPUT_NAMES, SCORER_NODE_TYPES
from gnn.train import Ensemble


class ScorerModule(nn.Module):
    """The ensemble's read-out and heads over fixed embedding tables (the torch twin of the ONNX graph).

    The members' heads, for all members at once: each part's table is projected through its slice of
    the first head layer once, here (:func:`gnn.model.project_parts`), and the members' projections sit
    side by side. Per candidate what remains is gathers, small multi-hot products and two batched
    layers — about 10× fewer operations than concatenating 960-wide read-outs per member.
    """

    def __init__(self, ensemble: Ensemble, tables: list[dict[str, Tensor]]) -> None:
        super().__init__()
        firsts, seconds, thirds = [], [], []
        for m in ensemble.members:
            layers = [mod for mod in m.head.mlp if isinstance(mod, nn.Linear)]
            firsts.append(layers[0])
            seconds.append(layers[1])
            thirds.append(layers[2])
        with torch.no_grad():
            projected = [project_parts({k: v.float() for k, v in tab.items()}, first.weight)
                         for tab, first in zip(tables, firsts)]
            for part in READOUT_PARTS:
                self.register_buffer(f"proj_{part}", torch.cat([p[part] for p in projected], dim=1))  # [n_part, K*hidden]
            self.register_buffer("b1", torch.cat([f.bias for f in firsts]))
            self.register_buffer("w2", torch.stack([l.weight.t() for l in seconds]))  # [K, hidden, hidden]
            self.register_buffer("b2", torch.stack([l.bias for l in seconds])[:, None, :])
            self.register_buffer("w3", torch.stack([l.weight.t() for l in thirds]))  # [K, hidden, 4]
            self.register_buffer("b3", torch.stack([l.bias for l in thirds])[:, None, :])
        self.members = len(ensemble.members)
        self.register_buffer("target_mean", torch.tensor(ensemble.target_mean, dtype=torch.float32))
        self.register_buffer("target_std", torch.tensor(ensemble.target_std, dtype=torch.float32))
        self.eval()

    def forward(self, dln: Tensor, device: Tensor, techniques: Tensor, frameworks: Tensor,
                clouds: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        projected = {part: getattr(self, f"proj_{part}") for part in READOUT_PARTS}
        means = (mean_operator(techniques), mean_operator(frameworks), mean_operator(clouds))
        h = torch.relu(first_layer(projected, self.b1, dln, device, means))  # [N, K*hidden]
        h = h.reshape(h.shape[0], self.members, -1).transpose(0, 1)  # [K, N, hidden]
        h = torch.relu(torch.matmul(h, self.w2) + self.b2)
        o = torch.matmul(h, self.w3) + self.b3  # [K, N, 4]
        metrics = o[:, :, :3] * self.target_std + self.target_mean
        mean = metrics.mean(dim=0)
        std = ((metrics - mean) ** 2).mean(dim=0).sqrt()
        high = torch.sigmoid(o[:, :, 3]).mean(dim=0)
        return mean, std, high


def example_inputs(graph: ExportedGraph, n: int = 2) -> tuple[Tensor, ...]:
    """Inputs of the right shapes for tracing (``n`` rows of zeros)."""
    return (torch.zeros(n, dtype=torch.long), torch.zeros(n, dtype=torch.long),
            torch.zeros((n, graph.count("technique") + 1)), torch.zeros((n, graph.count("framework") + 1)),
            torch.zeros((n, graph.count("cloud") + 1)))


def export_onnx(ensemble: Ensemble, graph: ExportedGraph) -> bytes:
    """The ONNX model (bytes) scoring configurations of ``graph`` with ``ensemble``."""
    module = ScorerModule(ensemble, ensemble.tables(graph))
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module, example_inputs(graph), buf, input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES),
            dynamic_axes={name: {0: "n"} for name in (*INPUT_NAMES, *OUTPUT_NAMES)}, opset_version=17, dynamo=False)
    return buf.getvalue()


def scorer_metadata(ensemble: Ensemble, graph: ExportedGraph) -> dict[str, object]:
    """What :class:`gnn.onnx_scorer.OnnxScorer` needs beside the ONNX bytes: the version and the IRIs its rows are."""
    return {"format": "dlom-gnn-onnx/1", "predictor_version": ensemble.version,
            "iris": {t: graph.iris[t] for t in SCORER_NODE_TYPES},
            "trained_on": ensemble.trained_on, "metric_trained": list(ensemble.metric_trained)}
