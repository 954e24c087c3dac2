"""Serving: the trained ensemble as one small ONNX graph scored with onnxruntime.

The GNN's message passing runs once, when the scorer is built: each member's read-out embedding tables
(DLNs, devices, techniques, frameworks, clouds of the exported graph) are baked into the ONNX graph as
constants. What remains per candidate is gathers, a few matrix products and the members' MLP heads, so
scoring 1,000 candidates takes milliseconds on a CPU. Inputs are row indices into the graph the
scorer was built from (``metadata["iris"]`` lists them, so a scorer is only used with that graph):

* ``dln`` int64 [N], ``device`` int64 [N]
* ``techniques`` float32 [N, T+1], ``frameworks`` float32 [N, F+1], ``clouds`` float32 [N, C+1]
  (multi-hot with a leading padding column, see :class:`gnn.model.CandidateBatch`)

Outputs: ``mean`` [N, 3] and ``std`` [N, 3] of (ln latency ms, accuracy, ln energy µJ) over the members,
and ``high_score`` [N], the mean probability of a high objective score.

:class:`OnnxCandidatePredictor` implements decision support's :class:`decision.prediction.CandidatePredictor`
protocol (the 'build new model' path of Fig. 6) on top of it.
"""
from __future__ import annotations

import io
import json
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from decision.prediction import PredictedCandidate
from decision.requirements import Requirements
from gnn.errors import NoTrainedModelError
from gnn.export import ExportedGraph, export_graph
from gnn.model import CandidateBatch
from gnn.train import Ensemble, Prediction, mask_untrained
from kg.store import Store

INPUT_NAMES = ("dln", "device", "techniques", "frameworks", "clouds")
OUTPUT_NAMES = ("mean", "std", "high_score")


class ScorerModule(nn.Module):
    """The ensemble's read-out and heads over fixed embedding tables (the torch twin of the ONNX graph).

    Algebraically the members' heads, rearranged for speed: the first head layer is linear in the
    concatenated read-out ``[h_dln, h_device, mean h_tech, mean h_fw, mean h_cloud]``, and a mean of
    rows commutes with a linear map, so each part's table is projected through its slice of the first
    layer once, here (``P = table · W1_partᵀ``). Per candidate what remains is gathers, small multi-hot
    products and two batched layers for all members at once — about 10× fewer operations than
    concatenating 960-wide read-outs per member.
    """

    def __init__(self, ensemble: Ensemble, tables: list[dict[str, Tensor]]) -> None:
        super().__init__()
        self.parts = ("dln", "device", "technique", "framework", "cloud")
        firsts, seconds, thirds = [], [], []
        for m in ensemble.members:
            layers = [mod for mod in m.head.mlp if isinstance(mod, nn.Linear)]
            firsts.append(layers[0])
            seconds.append(layers[1])
            thirds.append(layers[2])
        width = tables[0]["dln"].shape[1]
        with torch.no_grad():
            for j, part in enumerate(self.parts):
                projected = [tab[part].float() @ first.weight[:, j * width:(j + 1) * width].t()
                             for tab, first in zip(tables, firsts)]
                self.register_buffer(f"proj_{part}", torch.cat(projected, dim=1))  # [n_part, K*hidden]
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
        h = self.proj_dln[dln] + self.proj_device[device] + self.b1
        for mh, proj in ((techniques, self.proj_technique), (frameworks, self.proj_framework), (clouds, self.proj_cloud)):
            h = h + (mh @ proj) / mh.sum(dim=1, keepdim=True).clamp(min=1.0)
        h = torch.relu(h)  # [N, K*hidden]
        h = h.reshape(h.shape[0], self.members, -1).transpose(0, 1)  # [K, N, hidden]
        h = torch.relu(torch.matmul(h, self.w2) + self.b2)
        o = torch.matmul(h, self.w3) + self.b3  # [K, N, 4]
        metrics = o[:, :, :3] * self.target_std + self.target_mean
        mean = metrics.mean(dim=0)
        std = ((metrics - mean) ** 2).mean(dim=0).sqrt()
        high = torch.sigmoid(o[:, :, 3]).mean(dim=0)
        return mean, std, high


def example_inputs(graph: ExportedGraph, n: int = 2) -> tuple[Tensor, ...]:
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
    return {"format": "dlom-gnn-onnx/1", "predictor_version": ensemble.version,
            "iris": {t: graph.iris[t] for t in ("dln", "device", "technique", "framework", "cloud")},
            "trained_on": ensemble.trained_on, "metric_trained": list(ensemble.metric_trained)}


class OnnxScorer:
    """An onnxruntime session over an exported scorer, with the IRIs its indices refer to."""

    def __init__(self, model_bytes: bytes, metadata: dict[str, object]) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        # Small per-call work: threads cost more than they give on a shared CPU.
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])
        self.model_bytes = model_bytes
        self.metadata = metadata
        self.version = str(metadata["predictor_version"])

    @classmethod
    def build(cls, ensemble: Ensemble, graph: ExportedGraph) -> OnnxScorer:
        return cls(export_onnx(ensemble, graph), scorer_metadata(ensemble, graph))

    def save(self, onnx_path: Path) -> None:
        """Write the ONNX file and ``<name>.json`` metadata beside it."""
        onnx_path = Path(onnx_path)
        onnx_path.parent.mkdir(parents=True, exist_ok=True)
        onnx_path.write_bytes(self.model_bytes)
        onnx_path.with_suffix(".json").write_text(json.dumps(self.metadata, indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, onnx_path: Path) -> OnnxScorer:
        onnx_path = Path(onnx_path)
        meta_path = onnx_path.with_suffix(".json")
        if not onnx_path.is_file() or not meta_path.is_file():
            raise NoTrainedModelError(f"no ONNX scorer at {onnx_path} (with {meta_path.name}): run 'dlom gnn train' first")
        return cls(onnx_path.read_bytes(), json.loads(meta_path.read_text()))

    def matches(self, graph: ExportedGraph) -> bool:
        """True when the scorer's indices refer to exactly this graph's nodes."""
        iris = self.metadata.get("iris", {})
        return all(iris.get(t) == graph.iris[t] for t in ("dln", "device", "technique", "framework", "cloud"))

    def score_arrays(self, batch: CandidateBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        feeds = {"dln": batch.dln.numpy(), "device": batch.device.numpy(), "techniques": batch.techniques.numpy(),
                 "frameworks": batch.frameworks.numpy(), "clouds": batch.clouds.numpy()}
        mean, std, high = self.session.run(list(OUTPUT_NAMES), feeds)
        return mean, std, high

    def score(self, batch: CandidateBatch) -> Prediction:
        mean, std, high = self.score_arrays(batch)
        return mask_untrained(
            Prediction(mean=mean.astype(np.float64), std=std.astype(np.float64), high_score=high.astype(np.float64)),
            self.metadata.get("metric_trained", [True] * 3))


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.lower())


class OnnxCandidatePredictor:
    """decision support's ``CandidatePredictor``: unseen configurations meeting a request, ranked by
    Eq. 1 under the request's preferences, scored with the ONNX scorer.

    Requirements used: network name (DLN label, '-', '_' and spaces ignored), device types (substring
    of the device's label/board/processor/accelerator), device min memory / min clock / framework, and
    the performance limits (min accuracy, max latency, max energy) applied to the *predicted* values.
    """

    def __init__(self, store: Store, ensemble: Ensemble | None = None, scorer: OnnxScorer | None = None) -> None:
        self.graph = export_graph(store)
        if scorer is None or not scorer.matches(self.graph):
            if ensemble is None:
                raise NoTrainedModelError("no ONNX scorer built for this graph and no trained ensemble to build one")
            scorer = OnnxScorer.build(ensemble, self.graph)
        self.scorer = scorer
        self.version = scorer.version

    @classmethod
    def from_default_paths(cls, store: Store, checkpoint: Path | None = None) -> OnnxCandidatePredictor:
        """The predictor decision support uses: the trained checkpoint (``checkpoint``, else the user's,
        else the shipped one) and, when it was built for this very graph, the ONNX file beside it.
        Raises :class:`NoTrainedModelError` when there is no trained predictor."""
        from gnn.paths import resolve_checkpoint

        path = resolve_checkpoint(checkpoint)
        ensemble = Ensemble.load(path)
        scorer = None
        onnx_path = path.with_suffix(".onnx")
        if onnx_path.is_file() and onnx_path.with_suffix(".json").is_file():
            scorer = OnnxScorer.load(onnx_path)
            if scorer.version != ensemble.version:
                scorer = None
        return cls(store, ensemble=ensemble, scorer=scorer)

    def _devices(self, req: Requirements) -> list[int]:
        g, out = self.graph, []
        for v in range(g.count("device")):
            a = g.attrs["device"][v]
            if req.device.min_memory_kb is not None and not (isinstance(a.get("memoryKB"), int | float) and a["memoryKB"] >= req.device.min_memory_kb):
                continue
            if req.device.min_clock_mhz is not None and not (isinstance(a.get("clockFrequencyMHz"), int | float) and a["clockFrequencyMHz"] >= req.device.min_clock_mhz):
                continue
            if req.device.framework is not None:
                names = [g.labels["framework"][f].lower() for f in g.device_frameworks[v]]
                if not any(req.device.framework.lower() in n for n in names):
                    continue
            if req.project.device_types:
                text = " ".join(str(a.get(k, "")) for k in ("label", "board", "processor", "accelerator")).lower()
                if not any(t.lower() in text for t in req.project.device_types):
                    continue
            out.append(v)
        return out

    def _dlns(self, req: Requirements) -> list[int]:
        if req.network.network is None:
            return list(range(self.graph.count("dln")))
        want = _norm(req.network.network)
        return [d for d in range(self.graph.count("dln")) if want in _norm(self.graph.labels["dln"][d])]

    def predict(self, requirements: Requirements, limit: int = 5) -> Sequence[PredictedCandidate]:
        from decision.elicitation import elicit, explicit_weights
        from gnn.propose import candidate_batch, generate_candidates, predicted_candidate, rank_candidates

        candidates = generate_candidates(self.graph, self._dlns(requirements), self._devices(requirements))
        if not candidates:
            return []
        pred = self.scorer.score(candidate_batch(self.graph, candidates))
        perf = requirements.performance
        ok = np.ones(len(candidates), dtype=bool)
        if perf.min_accuracy is not None:
            ok &= pred.accuracy >= perf.min_accuracy
        if perf.max_latency_ms is not None:
            ok &= pred.latency_ms <= perf.max_latency_ms
        if perf.max_energy_uj is not None:
            ok &= pred.energy_uj <= perf.max_energy_uj
        keep = np.flatnonzero(ok)
        if keep.size == 0:
            return []
        pref = requirements.preferences
        weights = (explicit_weights(pref.weights) if pref.weights else elicit(pref.comparisons)).weight_map()
        sub = Prediction(pred.mean[keep], pred.std[keep], pred.high_score[keep])
        proposals = rank_candidates(self.graph, [candidates[i] for i in keep], sub, weights, top_k=limit)
        return [predicted_candidate(p, self.version) for p in proposals]
