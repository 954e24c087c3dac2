"""Serving: the trained ensemble as one small ONNX graph scored with onnxruntime — no torch needed.

The GNN's message passing runs once, when the scorer is built (:mod:`gnn.onnx_export`, torch): each
member's read-out embedding tables (DLNs, devices, techniques, frameworks, clouds of the exported graph)
are baked into the ONNX graph as constants. What remains per candidate is gathers, a few matrix
products and the members' MLP heads, so scoring 1,000 candidates takes milliseconds on a CPU. Inputs
are row indices into the graph the scorer was built from (``metadata["iris"]`` lists them):

* ``dln`` int64 [N], ``device`` int64 [N]
* ``techniques`` float32 [N, T+1], ``frameworks`` float32 [N, F+1], ``clouds`` float32 [N, C+1]
  (multi-hot with a leading padding column, see :func:`gnn.prediction.multi_hot_rows`)

Outputs: ``mean`` [N, 3] and ``std`` [N, 3] of (ln latency ms, accuracy, ln energy µJ) over the members,
and ``high_score`` [N], the mean probability of a high objective score.

When the store's graph differs from the scorer's (data imported since it was built) a server with the
'gnn' extra rebuilds the scorer over the store's graph, as before. Without torch the shipped scorer
still serves: a configuration whose DLN, device, techniques and device frameworks the scorer knows (by
IRI) is scored with the embeddings of the graph the scorer was built for (each prediction's notes say
so); one involving a node it does not know raises :class:`UnknownToScorerError`, a one-line message
naming the node and the extra that would rebuild the scorer.

:class:`OnnxCandidatePredictor` implements decision support's :class:`decision.prediction.CandidatePredictor`
protocol (the 'build new model' path of Fig. 6) on top of it.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from decision.prediction import Configuration, PredictedCandidate
from decision.requirement_table import BY_PATH, device_description
from kg.extras import extra_message, has_extra
from gnn.errors import NoTrainedModelError, UnknownEntityError
from gnn.export import ExportedGraph, export_graph, node_iris
from gnn.prediction import READOUT_INPUTS, Prediction, mask_untrained, readout_inputs
from kg.namespaces import SPARQL_PREFIXES
from kg.store import Store

if TYPE_CHECKING:
    from decision.requirements import Requirements
    from gnn.propose import Candidate
    from gnn.train import Ensemble

INPUT_NAMES = READOUT_INPUTS
OUTPUT_NAMES = ("mean", "std", "high_score")
# Node types whose rows the scorer's inputs index (metadata["iris"] lists each one's IRIs in row order).
SCORER_NODE_TYPES = ("dln", "device", "technique", "framework", "cloud")
# The torch half, importable from here as before (it needs the 'gnn' extra and is loaded on first use).
_EXPORT_NAMES = frozenset({"ScorerModule", "example_inputs", "export_onnx", "scorer_metadata"})


def __getattr__(name: str) -> Any:
    if name in _EXPORT_NAMES:
        from gnn import onnx_export

        return getattr(onnx_export, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class UnknownToScorerError(UnknownEntityError):
    """A configuration involves a node the ONNX scorer was not built with, and this install cannot
    rebuild the scorer (no torch); the message names the node and the extra to install."""


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
        iris = metadata.get("iris", {})
        assert isinstance(iris, dict), "scorer metadata: 'iris' maps node types to IRI lists"
        self.rows: dict[str, dict[str, int]] = {t: {iri: i for i, iri in enumerate(iris.get(t, []))} for t in SCORER_NODE_TYPES}

    @classmethod
    def build(cls, ensemble: Ensemble, graph: ExportedGraph) -> OnnxScorer:
        """Export ``ensemble`` over ``graph`` (needs torch: the 'gnn' extra)."""
        from gnn.onnx_export import export_onnx, scorer_metadata

        return cls(export_onnx(ensemble, graph), scorer_metadata(ensemble, graph))

    def save(self, onnx_path: Path) -> None:
        """Write the ONNX file and ``<name>.json`` metadata beside it."""
        onnx_path = Path(onnx_path)
        onnx_path.parent.mkdir(parents=True, exist_ok=True)
        onnx_path.write_bytes(self.model_bytes)
        onnx_path.with_suffix(".json").write_text(json.dumps(self.metadata, indent=1, sort_keys=True) + "\n")

    @classmethod
    def beside(cls, checkpoint: Path) -> OnnxScorer | None:
        """The scorer saved beside ``checkpoint`` (``<name>.onnx`` with ``<name>.json``), None when there
        is none. It is that checkpoint's: :meth:`gnn.train.Ensemble.save` removes a scorer of other weights."""
        onnx_path = Path(checkpoint).with_suffix(".onnx")
        return cls.load(onnx_path) if onnx_path.is_file() and onnx_path.with_suffix(".json").is_file() else None

    @classmethod
    def load(cls, onnx_path: Path) -> OnnxScorer:
        onnx_path = Path(onnx_path)
        meta_path = onnx_path.with_suffix(".json")
        if not onnx_path.is_file() or not meta_path.is_file():
            raise NoTrainedModelError(f"no ONNX scorer at {onnx_path} (with {meta_path.name}): run 'dlom gnn train' first")
        return cls(onnx_path.read_bytes(), json.loads(meta_path.read_text()))

    def matches(self, graph: ExportedGraph) -> bool:
        """True when the scorer's indices refer to exactly this graph's nodes."""
        return self.built_for(graph.iris)

    def built_for(self, iris: Mapping[str, Sequence[str]]) -> bool:
        """True when ``iris`` (node type → IRIs in row order, e.g. :func:`gnn.export.node_iris`) are
        exactly the nodes the scorer was built with."""
        built = self.metadata.get("iris", {})
        return all(built.get(t) == list(iris[t]) for t in SCORER_NODE_TYPES)

    def _row(self, node_type: str, iri: str) -> int:
        row = self.rows[node_type].get(iri)
        if row is None:
            noun = {"dln": "DLN", "device": "device", "technique": "technique", "framework": "framework"}.get(node_type, node_type)
            raise UnknownToScorerError(
                f"the {noun} <{iri}> is not one the prediction model ({self.version}) was built with; "
                f"scoring it needs the model rebuilt over this graph — {extra_message('gnn')}")
        return row

    def inputs(self, graph: ExportedGraph, candidates: Sequence[Candidate]) -> dict[str, np.ndarray]:
        """The scorer's inputs for ``candidates`` (rows of ``graph``): the same rows when the scorer was
        built for ``graph``, else translated by IRI. Raises :class:`UnknownToScorerError` for a node
        the scorer does not know."""
        if self.matches(graph):
            from gnn.propose import candidate_inputs

            return candidate_inputs(graph, candidates)
        iris = graph.iris
        return readout_inputs(
            [self._row("dln", iris["dln"][c.dln]) for c in candidates],
            [self._row("device", iris["device"][c.device]) for c in candidates],
            [[self._row("technique", iris["technique"][t]) for t in c.techniques] for c in candidates],
            [[self._row("framework", iris["framework"][f]) for f in graph.device_frameworks[c.device]] for c in candidates],
            [[] for _ in candidates],
            (len(self.rows["technique"]), len(self.rows["framework"]), len(self.rows["cloud"])))

    def knows(self, graph: ExportedGraph, candidate: Candidate) -> bool:
        """True when every node of ``candidate`` (a row configuration of ``graph``) is one the scorer knows."""
        iris, rows = graph.iris, self.rows
        return (iris["dln"][candidate.dln] in rows["dln"] and iris["device"][candidate.device] in rows["device"]
                and all(iris["technique"][t] in rows["technique"] for t in candidate.techniques)
                and all(iris["framework"][f] in rows["framework"] for f in graph.device_frameworks[candidate.device]))

    def score_arrays(self, batch: Mapping[str, np.ndarray] | Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw outputs for ``batch``: the arrays of :data:`INPUT_NAMES` (a mapping), or a
        :class:`gnn.model.CandidateBatch` of CPU tensors (converted to arrays)."""
        if isinstance(batch, Mapping):
            feeds = {name: np.asarray(batch[name]) for name in INPUT_NAMES}
        else:
            feeds = {name: np.asarray(getattr(batch, name)) for name in INPUT_NAMES}
        mean, std, high = self.session.run(list(OUTPUT_NAMES), feeds)
        return mean, std, high

    def score(self, batch: Mapping[str, np.ndarray] | Any) -> Prediction:
        """The prediction for ``batch`` (see :meth:`score_arrays`), NaN for metrics never trained."""
        mean, std, high = self.score_arrays(batch)
        return mask_untrained(
            Prediction(mean=mean.astype(np.float64), std=std.astype(np.float64), high_score=high.astype(np.float64)),
            self.metadata.get("metric_trained", [True] * 3))

    def score_candidates(self, graph: ExportedGraph, candidates: Sequence[Candidate]) -> Prediction:
        """:meth:`score` of :meth:`inputs` (raises :class:`UnknownToScorerError` like it)."""
        return self.score(self.inputs(graph, candidates))


# What a device records for each device requirement of decision.requirement_table, read from the
# exported graph (the retrieval query reads the same properties from the store).
_DEVICE_VALUE: dict[str, Callable[[ExportedGraph, int], Any]] = {
    "device.min_memory_kb": lambda g, v: _number(g.attrs["device"][v].get("memoryKB")),
    "device.min_clock_mhz": lambda g, v: _number(g.attrs["device"][v].get("clockFrequencyMHz")),
    "device.framework": lambda g, v: [g.labels["framework"][f] for f in g.device_frameworks[v]],
    "device.form_factor": lambda g, v: _text(g.attrs["device"][v].get("formFactor")),
    "project.device_types": lambda g, v: device_description(
        *(str(g.attrs["device"][v][k]) if g.attrs["device"][v].get(k) is not None else None
          for k in ("label", "board", "processor", "accelerator"))),
}


_BENCHMARK_HOSTS = SPARQL_PREFIXES + "SELECT ?d WHERE { ?d a dlom:BenchmarkHost }"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


class OnnxCandidatePredictor:
    """decision support's ``CandidatePredictor``: unseen configurations meeting a request, ranked by
    Eq. 1 under the request's preferences, scored with the ONNX scorer.

    Requirements used, each by its row of :mod:`decision.requirement_table` (the comparison decision
    retrieval makes): network name (the DLN's label equal as a network name, '-', '_', blanks and case
    ignored), device types (contained in the device's label/board/processor/accelerator), device min
    memory / min clock / framework / form factor, and the performance limits (min accuracy, max latency,
    max energy) applied to the *predicted* values. Benchmark hosts (``dlom:BenchmarkHost``, machines DLOM
    measured on) are devices only when the request asks for this machine (``device.this_machine``) or
    the caller names its devices (``only_devices``), as retrieval offers models on them.
    """

    def __init__(self, store: Store, ensemble: Ensemble | None = None, scorer: OnnxScorer | None = None) -> None:
        """``scorer`` is used when it was built for the store's graph; otherwise it is rebuilt from
        ``ensemble`` (torch) when one is given, else (a core install) kept and used for the
        configurations whose nodes it knows (``exact`` is False then)."""
        # Whether the scorer fits is decided on the node IRIs (a few lookups) so the graph, the costly
        # part of loading, is exported once: with tensors only when the scorer must be rebuilt.
        self.exact = scorer is not None and scorer.built_for(node_iris(store))
        if not self.exact and ensemble is not None:
            self.graph = export_graph(store)  # message passing over this graph needs its tensors
            scorer = OnnxScorer.build(ensemble, self.graph)
            self.exact = True
        else:
            if scorer is None:
                raise NoTrainedModelError("no ONNX scorer built for this graph and no trained ensemble to build one")
            self.graph = export_graph(store, tensors=False)
        assert scorer is not None
        self.scorer = scorer
        self.version = scorer.version
        # read once with the graph: the hosts are described when a server starts, before it loads this
        self.hosts = frozenset(d.value for (d,) in store.select(_BENCHMARK_HOSTS).rows)  # type: ignore[union-attr]

    @classmethod
    def from_default_paths(cls, store: Store, checkpoint: Path | None = None) -> OnnxCandidatePredictor:
        """The predictor decision support uses: the trained checkpoint (``checkpoint``, else the user's,
        else the shipped one) and, when it was built for this very graph, the ONNX file beside it.
        With the 'gnn' extra the checkpoint is loaded to check the ONNX file's version and to rebuild
        the scorer for a different graph; without it the ONNX file alone serves (see the module
        docstring). Raises :class:`NoTrainedModelError` when there is no trained predictor."""
        from gnn.paths import resolve_checkpoint

        path = resolve_checkpoint(checkpoint)
        scorer = OnnxScorer.beside(path)
        if not has_extra("gnn"):
            if scorer is None:
                raise NoTrainedModelError(f"no ONNX scorer beside {path} (building one from the checkpoint: "
                                          f"{extra_message('gnn')})")
            return cls(store, scorer=scorer)
        from gnn.train import Ensemble

        ensemble = Ensemble.load(path)
        if scorer is not None and scorer.version != ensemble.version:
            scorer = None
        return cls(store, ensemble=ensemble, scorer=scorer)

    def score(self, candidates: Sequence[Candidate]) -> Prediction:
        """The scorer's prediction for ``candidates`` (rows of :attr:`graph`); raises
        :class:`UnknownToScorerError` when one involves a node a non-exact scorer does not know."""
        return self.scorer.score_candidates(self.graph, candidates)

    def coverage_note(self) -> str | None:
        """None when the scorer was built for this graph; else what its predictions are based on."""
        if self.exact:
            return None
        return ("scored with the embeddings of the graph the prediction model was built for (this store's graph "
                f"differs; configurations with nodes it does not know are not scored; {extra_message('gnn')})")

    def _devices(self, req: Requirements, hosts: bool | None) -> list[int]:
        """The device rows meeting every stated device requirement, by its row of the requirement
        table (a device that does not record the value does not meet it): only benchmark hosts when
        ``hosts`` is True, none when False, both when None."""
        g = self.graph
        stated = {path: value for path, value in req.stated().items() if path in _DEVICE_VALUE}
        out = []
        for v in range(g.count("device")):
            if hosts is not None and (g.iris["device"][v] in self.hosts) is not hosts:
                continue
            if all(BY_PATH[path].matches(_DEVICE_VALUE[path](g, v), value) for path, value in stated.items()):
                out.append(v)
        return out

    def _dlns(self, req: Requirements) -> list[int]:
        """The DLN rows the request's network names: its label equal as a network name (the requirement
        table's comparison, as retrieval's), all when none is named."""
        if req.network.network is None:
            return list(range(self.graph.count("dln")))
        row = BY_PATH["network.network"]
        return [d for d in range(self.graph.count("dln")) if row.matches(self.graph.labels["dln"][d], req.network.network)]

    def predict(self, requirements: Requirements, limit: int = 5,
                only_devices: Collection[str] | None = None,
                keep: Configuration | None = None) -> Sequence[PredictedCandidate]:
        """:meth:`decision.prediction.CandidatePredictor.predict`: see the class docstring for the
        requirements applied; ``keep`` tests each configuration by its IRIs before it is scored."""
        from decision.elicitation import elicit, explicit_weights
        from gnn.propose import generate_candidates, predicted_candidate, rank_candidates

        # the weights first: preferences that determine none are the request's error, whatever is proposed
        pref = requirements.preferences
        weights = (explicit_weights(pref.weights) if pref.weights else elicit(pref.comparisons)).weight_map()
        # the devices a caller names (e.g. this host's, for proposals it can measure) are kept, hosts or not
        devices = self._devices(requirements, hosts=None if only_devices is not None else requirements.device.this_machine)
        if only_devices is not None:
            devices = [v for v in devices if self.graph.iris["device"][v] in only_devices]
        candidates = generate_candidates(self.graph, self._dlns(requirements), devices)
        if keep is not None:
            iris = self.graph.iris
            candidates = [c for c in candidates
                          if keep(iris["dln"][c.dln], iris["device"][c.device], tuple(iris["technique"][t] for t in c.techniques))]
        if not self.exact:
            candidates = [c for c in candidates if self.scorer.knows(self.graph, c)]
        if not candidates:
            return []
        pred = self.score(candidates)
        predicted = {"performance.min_accuracy": pred.accuracy, "performance.max_latency_ms": pred.latency_ms,
                     "performance.max_energy_uj": pred.energy_uj}
        ok = np.ones(len(candidates), dtype=bool)
        for path, value in requirements.stated().items():
            if path in predicted:  # the same comparison as for a measured value, on the predicted one
                ok &= np.array([bool(BY_PATH[path].matches(float(x), value)) for x in predicted[path]], dtype=bool)
        keep = np.flatnonzero(ok)
        if keep.size == 0:
            return []
        sub = Prediction(pred.mean[keep], pred.std[keep], pred.high_score[keep])
        proposals = rank_candidates(self.graph, [candidates[i] for i in keep], sub, weights, top_k=limit)
        out = [predicted_candidate(p, self.version) for p in proposals]
        note = self.coverage_note()
        if note:
            for c in out:
                c.notes["scorer_graph"] = note
        return out
