"""Export of the knowledge graph to a PyTorch Geometric ``HeteroData`` (store → tensors).

Contract:

* Only SPARQL through the :class:`kg.store.Store` protocol is used, so any backend works.
* Deterministic: nodes of each type are ordered by IRI and every feature is computed with stable
  hashes (:mod:`gnn.features`), so the same store always gives the same tensors.
* Node types: ``dln`` (dlom:DLN), ``device`` (dlom:EndDevice), ``technique`` (every instance of a
  subclass of dlom:OptimizationTechnique), ``framework`` (dlom:Framework and dlom:Compiler), ``cloud``
  (dlom:CloudConfiguration) and ``model`` (dlom:Model). The node count of each type equals the SPARQL
  count of distinct instances of its class(es) — except ``model``, which leaves out models whose only
  performance is *predicted* (a prediction is never evidence to learn from) and models without a DLN
  or a device (MLPerf Inference's server-side-only records: the GNN models deployments on devices).
* Targets are taken from dlom:MeasuredPerformance only: ln(inference latency ms), accuracy (0-1) and
  ln(energy per inference µJ), NaN where not measured. Several measured records of one model are
  averaged (in log space for latency and energy).
* Edges (each with its reverse ``rev_<name>``): model→dln (dlom:usesDLN), model→device
  (dlom:deployedOn), model→technique (dlom:appliesOptimization), model→framework (dlom:usesFramework /
  dlom:usesCompiler), model→cloud (dlom:usesCloudConfiguration), device→framework (the device's
  dlom:usesFramework / dlom:usesCompiler).
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from pyoxigraph import NamedNode

from gnn.errors import EmptyGraphError
from gnn.features import TOKEN_BUCKETS, hashed_bag, log_feature, one_hot, plain_feature
from kg.binding import values_rows
from kg.namespaces import DLOM, RDFS, SPARQL_PREFIXES
from kg.store import Store
from kg.terms import to_python

if TYPE_CHECKING:  # torch and torch-geometric (the 'gnn' extra) are imported only to build tensors
    import torch
    from torch_geometric.data import HeteroData

NODE_TYPES: tuple[str, ...] = ("dln", "device", "technique", "framework", "cloud", "model")
METRICS: tuple[str, ...] = ("log_latency_ms", "accuracy", "log_energy_uj")
TECHNIQUE_FAMILIES: tuple[str, ...] = (
    "Quantization", "Pruning", "KnowledgeDistillation", "TensorDecomposition", "FineTuning",
    "HardwareOptimization", "FogComputing", "ShieldedExecution",
)
# (model→entity relation name, entity node type); the reverse edge is "rev_<name>".
MODEL_RELATIONS: tuple[tuple[str, str], ...] = (
    ("uses_dln", "dln"), ("deployed_on", "device"), ("applies", "technique"),
    ("uses_framework", "framework"), ("uses_cloud", "cloud"),
)

_CLASSES: dict[str, tuple[str, ...]] = {
    "dln": ("DLN",),
    "device": ("EndDevice",),
    "framework": ("Framework", "Compiler"),
    "cloud": ("CloudConfiguration",),
    "model": ("Model",),
}


@dataclass
class ExportedGraph:
    """The exported graph: the ``HeteroData`` and everything needed to map rows back to the store.

    ``data`` is None when exported with ``tensors=False`` (serving through the ONNX scorer needs only
    the rows, IRIs and attributes, so it runs without torch).

    ``model_*`` arrays are indexed by model row; ``device_hardware[d]`` is the physical hardware entity
    (``dlom:hardware``) device row ``d`` is a configuration of, None where the graph records none.
    ``targets`` has one column per :data:`METRICS` (NaN = not measured). ``attrs[node_type][i]`` holds the
    raw attribute values (by local name) of node ``i``, e.g. ``attrs["dln"][0]["numberOfParameters"]``.
    """

    data: HeteroData | None
    iris: dict[str, list[str]]
    labels: dict[str, list[str]]
    attrs: dict[str, list[dict[str, object]]]
    model_dln: np.ndarray
    model_device: np.ndarray
    model_techniques: list[list[int]]
    model_frameworks: list[list[int]]
    model_clouds: list[list[int]]
    device_frameworks: list[list[int]]
    technique_family: list[str]
    targets: np.ndarray
    rounds: list[str | None]
    device_hardware: list[str | None]  # the dlom:Hardware of each device row
    index: dict[str, dict[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {t: {iri: i for i, iri in enumerate(self.iris[t])} for t in NODE_TYPES}

    def count(self, node_type: str) -> int:
        return len(self.iris[node_type])

    @property
    def labeled(self) -> np.ndarray:
        """Boolean mask of models with at least one measured target."""
        return ~np.isnan(self.targets).all(axis=1)

    def configuration_key(self, i: int) -> tuple[int, int, tuple[int, ...]]:
        """(DLN row, device row, sorted technique rows) of model ``i``: what makes a configuration."""
        return int(self.model_dln[i]), int(self.model_device[i]), tuple(sorted(self.model_techniques[i]))


# The IRIs a scoped export keeps, per node type (see export_neighbourhood); None: every node.
Scope = Mapping[str, Collection[str]] | None


def _select(store: Store, sparql: str) -> list[tuple]:
    return [tuple(row) for row in store.select(SPARQL_PREFIXES + sparql).rows]


def _only(var: str, iris: Collection[str] | None) -> str:
    """A VALUES block limiting ``?var`` to ``iris`` (typed terms, never query text); "" for no limit.
    Placed first in a group, it makes the store look up those subjects instead of scanning a class."""
    return "" if iris is None else values_rows([var], [(NamedNode(i),) for i in sorted(iris)])


def _typed(classes: Sequence[str]) -> str:
    """The pattern "?s is an instance of one of ``classes``" — a UNION, not VALUES ?c: beside a VALUES
    block of subjects, VALUES ?c makes the store scan every instance of the classes."""
    return " UNION ".join(f"{{ ?s a dlom:{c} }}" for c in classes)


def _instances(store: Store, classes: Sequence[str], only: Collection[str] | None = None) -> list[str]:
    rows = _select(store, f"SELECT DISTINCT ?s WHERE {{ {_only('s', only)} {_typed(classes)} FILTER(isIRI(?s)) }}")
    return sorted({r[0].value for r in rows})


def _technique_instances(store: Store, only: Collection[str] | None = None) -> dict[str, str]:
    """Each technique IRI → its most specific family local name (or "OptimizationTechnique")."""
    rows = _select(store, f"""
        SELECT DISTINCT ?s ?c WHERE {{
          {_only('s', only)} ?s a ?c . ?c rdfs:subClassOf* dlom:OptimizationTechnique . FILTER(isIRI(?s))
        }}""")
    fams: dict[str, set[str]] = defaultdict(set)
    for s, c in rows:
        fams[s.value].add(c.value.removeprefix(str(DLOM)))
    out: dict[str, str] = {}
    for iri, classes in fams.items():
        specific = sorted(c for c in classes if c in TECHNIQUE_FAMILIES)
        out[iri] = specific[0] if specific else "OptimizationTechnique"
    return dict(sorted(out.items()))


def _literal_attributes(store: Store, classes: Sequence[str] | None,
                        only: Collection[str] | None = None) -> dict[str, dict[str, object]]:
    """Every literal-valued property of the instances of ``classes`` (None = technique subclasses):
    IRI → {local name: value}. When a property has several values the smallest (as text) is kept,
    so the choice is deterministic."""
    if classes is None:
        head = "?s a ?c . ?c rdfs:subClassOf* dlom:OptimizationTechnique ."
    else:
        head = _typed(classes)
    rows = _select(store, f"SELECT DISTINCT ?s ?p ?o WHERE {{ {_only('s', only)} {head} ?s ?p ?o . FILTER(isLiteral(?o)) }}")
    collected: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in rows:
        name = p.value.removeprefix(str(DLOM)) if p.value.startswith(str(DLOM)) else (
            "label" if p.value == RDFS.label.value else None)
        if name is None:
            continue
        collected[s.value][name].append(o)
    out: dict[str, dict[str, object]] = {}
    for s, props in collected.items():
        out[s] = {k: to_python(sorted(v, key=lambda t: t.value)[0]) for k, v in props.items()}
    return out


def _pairs(store: Store, subject_class: str, predicates: Sequence[str],
           only: Collection[str] | None = None) -> list[tuple[str, str]]:
    # A property path, not VALUES ?p: with VALUES the store scans every triple of the subjects' predicates.
    path = "|".join(f"dlom:{p}" for p in predicates)
    rows = _select(store, f"""
        SELECT DISTINCT ?s ?o WHERE {{ {_only('s', only)} ?s a dlom:{subject_class} . ?s {path} ?o . FILTER(isIRI(?o)) }}""")
    return sorted((s.value, o.value) for s, o in rows)


def _num(attrs: dict[str, object], name: str) -> float | None:
    v = attrs.get(name)
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return float(v)
    try:
        return float(str(v))
    except ValueError:
        return None


def _text(attrs: dict[str, object], *names: str) -> list[str | None]:
    return [str(attrs[n]) if n in attrs and attrs[n] is not None else None for n in names]


def dln_features(a: dict[str, object]) -> list[float]:
    """DLN: log layers/parameters/MACs/inputs/outputs (each with a known-flag) + hashed name/task tokens."""
    out: list[float] = []
    for name in ("numberOfLayers", "numberOfParameters", "macs", "numberOfInputs", "numberOfOutputs"):
        out.extend(log_feature(_num(a, name)))
    out.extend(hashed_bag(_text(a, "label", "task", "architectureFamily", "trainingDataset")).tolist())
    return out


def device_features(a: dict[str, object]) -> list[float]:
    """Device: log clock/accelerator clock/memory/storage/cores/price (with known-flags), accelerator/GPU
    flags, and two hashed token bags: processor/SoC/ISA, and accelerator/GPU/board/OS."""
    out: list[float] = []
    for name in ("clockFrequencyMHz", "acceleratorFrequencyMHz", "memoryKB", "storageKB", "cpuCores", "priceUsd"):
        out.extend(log_feature(_num(a, name)))
    out.append(1.0 if a.get("accelerator") else 0.0)
    out.append(1.0 if a.get("gpu") else 0.0)
    out.append(1.0 if a.get("hostSetting") else 0.0)
    out.extend(hashed_bag(_text(a, "processor", "soc", "isaFeatures")).tolist())
    # The label is only a fallback: MLPerf labels also name the submitter and round, which say nothing
    # about the hardware.
    names = ("accelerator", "gpu", "board", "operatingSystem", "vendor") + (
        () if a.get("board") or a.get("processor") else ("label",))
    out.extend(hashed_bag(_text(a, *names)).tolist())
    return out


def technique_features(a: dict[str, object], family: str) -> list[float]:
    """Technique: family one-hot, bit width/32, sparsity, rank ratio, log temperature, log epochs (with
    known-flags) and hashed scheme/tool/label tokens."""
    out = one_hot(family, TECHNIQUE_FAMILIES)
    bw = _num(a, "bitWidth")
    out.extend(plain_feature(bw / 32.0 if bw is not None else None))
    out.extend(plain_feature(_num(a, "sparsity")))
    out.extend(plain_feature(_num(a, "rankRatio")))
    out.extend(log_feature(_num(a, "temperature")))
    out.extend(log_feature(_num(a, "epochs")))
    out.extend(hashed_bag(_text(a, "quantizationScheme", "pruningGranularity", "toolName", "label")).tolist())
    return out


def framework_features(a: dict[str, object], is_compiler: bool) -> list[float]:
    """Framework or compiler: a compiler flag and hashed name/vendor tokens."""
    return [1.0 if is_compiler else 0.0, *hashed_bag(_text(a, "label", "vendor")).tolist()]


def cloud_features(a: dict[str, object]) -> list[float]:
    """Cloud configuration: log response time and monthly cost, shielded flag, hashed hardware/protocol tokens."""
    out: list[float] = []
    out.extend(log_feature(_num(a, "responseTimeMs")))
    out.extend(log_feature(_num(a, "monthlyCostUsd")))
    shielded = a.get("shieldedExecution")
    out.extend(plain_feature(1.0 if shielded is True else 0.0 if shielded is False else None))
    out.extend(hashed_bag(_text(a, "serverHardware", "securityProtocol", "costPlan", "label")).tolist())
    return out


FEATURE_DIMS: dict[str, int] = {
    "dln": 10 + TOKEN_BUCKETS,
    "device": 12 + 3 + 2 * TOKEN_BUCKETS,
    "technique": len(TECHNIQUE_FAMILIES) + 10 + TOKEN_BUCKETS,
    "framework": 1 + TOKEN_BUCKETS,
    "cloud": 6 + TOKEN_BUCKETS,
    # a constant, then the label-trick inputs (see gnn.train.inject_labels): z-scored ln latency,
    # accuracy, ln energy and their known-flags — zero in the export, filled only for training rows.
    "model": 1 + 2 * len(METRICS),
}


# How many leading columns of each type's features are numeric (values and known-flags); the rest are
# L2-normalized token bags, which are not z-scored (a rare token would otherwise become a huge value).
NUMERIC_COLUMNS: dict[str, int] = {
    "dln": 10, "device": 15, "technique": len(TECHNIQUE_FAMILIES) + 10, "framework": 1, "cloud": 6, "model": 1,
}


def _matrix(rows: Iterable[list[float]], node_type: str) -> torch.Tensor:
    import torch

    rows = list(rows)
    if not rows:
        return torch.zeros((0, FEATURE_DIMS[node_type]), dtype=torch.float32)
    return torch.tensor(np.asarray(rows, dtype=np.float32))


def _edge_index(pairs: Iterable[tuple[int, int]]) -> torch.Tensor:
    import torch

    pairs = sorted(set(pairs))
    if not pairs:
        return torch.zeros((2, 0), dtype=torch.long)
    return torch.tensor(pairs, dtype=torch.long).t().contiguous()


def _mean_log(values: list[float]) -> float:
    pos = [v for v in values if v is not None and v > 0]
    return float(np.mean(np.log(pos))) if pos else math.nan


def export_graph(store: Store, require_measurements: bool = True, tensors: bool = True,
                 scope: Scope = None) -> ExportedGraph:
    """Export the store to an :class:`ExportedGraph`; with ``tensors=False`` without the ``HeteroData``
    (no torch needed; everything else is the same).

    ``scope`` (see :func:`export_neighbourhood`) keeps only the nodes it lists, per node type, and the
    edges among them: the rows, attributes and targets of the nodes kept are what the whole export
    has for them when the scope is closed under the relations of its models.

    Raises :class:`~gnn.errors.EmptyGraphError` when ``require_measurements`` and no model has a
    measured latency, accuracy or energy (there is nothing to learn from).
    """
    def only(node_type: str) -> Collection[str] | None:
        return None if scope is None else scope.get(node_type, ())

    # Nodes, their literal attributes and labels.
    iris, tech_family = _nodes(store, only)
    iris["model"], measured_rows = _exported_models(store, only("model"))
    index = {t: {iri: i for i, iri in enumerate(iris[t])} for t in NODE_TYPES}
    attrs_by_type: dict[str, dict[str, dict[str, object]]] = {
        t: _literal_attributes(store, _CLASSES[t], only(t)) for t in ("dln", "device", "framework", "cloud", "model")}
    attrs_by_type["technique"] = _literal_attributes(store, None, only("technique"))
    compilers = set(_instances(store, ("Compiler",), only("framework")))
    attrs = {t: [attrs_by_type[t].get(iri, {}) for iri in iris[t]] for t in NODE_TYPES}
    labels = {t: [str(a.get("label") or iri.rsplit("/", 1)[-1]) for a, iri in zip(attrs[t], iris[t])] for t in NODE_TYPES}

    targets = _targets(measured_rows, index["model"])
    if require_measurements and (targets.shape[0] == 0 or np.isnan(targets).all()):
        raise EmptyGraphError(
            f"the store {store.url} holds no dlom:Model with a measured latency, accuracy or energy "
            "(import data first, e.g. 'dlom import mlperf-tiny <path>', or load the shipped graph)")

    # Relations, as row lists per subject row.
    def links(predicates: Sequence[str], target_type: str, subject_class: str = "Model",
              subject_type: str = "model") -> list[list[int]]:
        out: list[list[int]] = [[] for _ in range(len(iris[subject_type]))]
        for s, o in _pairs(store, subject_class, predicates, only(subject_type)):
            si, oi = index[subject_type].get(s), index[target_type].get(o)
            if si is not None and oi is not None:
                out[si].append(oi)
        return [sorted(set(x)) for x in out]

    model_links = {"dln": links(("usesDLN",), "dln"), "device": links(("deployedOn",), "device"),
                   "technique": links(("appliesOptimization",), "technique"),
                   "framework": links(("usesFramework", "usesCompiler"), "framework"),
                   "cloud": links(("usesCloudConfiguration",), "cloud")}
    device_fw = links(("usesFramework", "usesCompiler"), "framework", "EndDevice", "device")
    device_hardware: list[str | None] = [None] * len(iris["device"])
    for d, hw in _pairs(store, "EndDevice", ("hardware",), only("device")):
        if d in index["device"] and device_hardware[index["device"][d]] is None:  # (sorted: the smallest IRI)
            device_hardware[index["device"][d]] = hw

    # A model without a DLN or device (invalid by the shapes, but possible in a raw store) cannot be
    # placed: it is left out rather than guessed.
    keep = [i for i in range(len(iris["model"])) if model_links["dln"][i] and model_links["device"][i]]
    if len(keep) != len(iris["model"]):
        iris["model"], attrs["model"], labels["model"] = ([rows[i] for i in keep] for rows in (iris["model"], attrs["model"], labels["model"]))
        model_links = {k: [rows[i] for i in keep] for k, rows in model_links.items()}
        targets = targets[keep]
        if require_measurements and (not keep or np.isnan(targets).all()):
            raise EmptyGraphError(f"the store {store.url} holds no complete dlom:Model (DLN and device) with measurements")

    model_dln = np.array([lst[0] for lst in model_links["dln"]], dtype=np.int64)
    model_device = np.array([lst[0] for lst in model_links["device"]], dtype=np.int64)
    model_fw = [sorted(set(own) | set(device_fw[d])) for own, d in zip(model_links["framework"], model_device)]
    rounds = _rounds(store, iris["model"], only("model"))

    data = _hetero_data(attrs, iris, tech_family, compilers, targets, model_dln, model_device, model_links["technique"],
                        model_fw, model_links["cloud"], device_fw, device_hardware) if tensors else None
    return ExportedGraph(
        data=data, iris=iris, labels=labels, attrs=attrs, model_dln=model_dln, model_device=model_device,
        model_techniques=model_links["technique"], model_frameworks=model_fw, model_clouds=model_links["cloud"],
        device_frameworks=device_fw, technique_family=[tech_family[i] for i in iris["technique"]],
        targets=targets, rounds=rounds, device_hardware=device_hardware)


def _exported_models(store: Store, only: Collection[str] | None) -> tuple[list[str], list[tuple]]:
    """The models to export — all but those whose only performance is predicted — and the rows
    (model, performance, latency, accuracy, energy) of their measured performances."""
    all_models = _instances(store, _CLASSES["model"], only)
    predicted = {r[0].value for r in _select(store, f"""
        SELECT DISTINCT ?m WHERE {{ {_only('m', only)}
          ?m a dlom:Model ; dlom:hasPerformance ?p . ?p a dlom:PredictedPerformance }}""")}
    measured_rows = _select(store, f"""
        SELECT ?m ?p ?lat ?acc ?en WHERE {{ {_only('m', only)}
          ?m a dlom:Model ; dlom:hasPerformance ?p . ?p a dlom:MeasuredPerformance .
          OPTIONAL {{ ?p dlom:inferenceLatencyMs ?lat }} OPTIONAL {{ ?p dlom:accuracy ?acc }}
          OPTIONAL {{ ?p dlom:energyPerInferenceUj ?en }}
        }}""")
    measured = {r[0].value for r in measured_rows}
    return [m for m in all_models if m not in predicted or m in measured], measured_rows


def _targets(measured_rows: Iterable[tuple], model_index: Mapping[str, int]) -> np.ndarray:
    """Per model row, the :data:`METRICS` targets: the mean of ln latency, of accuracy and of ln energy
    over its measured performances (NaN where none measured it)."""
    per_model: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for m, _p, lat, acc, en in measured_rows:
        d = per_model[m.value]
        d["lat"].append(to_python(lat) if lat is not None else None)
        d["acc"].append(to_python(acc) if acc is not None else None)
        d["en"].append(to_python(en) if en is not None else None)
    targets = np.full((len(model_index), len(METRICS)), np.nan, dtype=np.float64)
    for iri, d in per_model.items():
        i = model_index.get(iri)
        if i is None:
            continue
        targets[i, 0] = _mean_log(d["lat"])
        accs = [a for a in d["acc"] if a is not None]
        targets[i, 1] = float(np.mean(accs)) if accs else math.nan
        targets[i, 2] = _mean_log(d["en"])
    return targets


def _rounds(store: Store, model_iris: Sequence[str], only: Collection[str] | None) -> list[str | None]:
    """Each model's benchmark round: on the model, on its performance, or on the run that produced it
    (the smallest when there are several)."""
    round_rows = _select(store, f"""
        SELECT DISTINCT ?m ?r WHERE {{ {_only('m', only)}
          ?m a dlom:Model .
          {{ ?m dlom:benchmarkRound ?r }} UNION {{ ?m dlom:hasPerformance ?p . ?p dlom:benchmarkRound ?r }}
          UNION {{ ?m dlom:hasPerformance ?p . ?p <http://www.w3.org/ns/prov#wasGeneratedBy> ?a . ?a dlom:benchmarkRound ?r }}
        }}""")
    rounds_of: dict[str, str] = {}
    for m, r in sorted(round_rows, key=lambda row: (row[0].value, row[1].value)):
        rounds_of.setdefault(m.value, str(r.value))
    return [rounds_of.get(iri) for iri in model_iris]


def _nodes(store: Store, only: Callable[[str], Collection[str] | None]) -> tuple[dict[str, list[str]], dict[str, str]]:
    """The IRIs of every node that is not a model, per node type, in row order (``only(type)``: the
    IRIs kept, None for all), and each technique's family."""
    iris = {t: _instances(store, _CLASSES[t], only(t)) for t in ("dln", "device", "framework", "cloud")}
    tech_family = _technique_instances(store, only("technique"))
    iris["technique"] = list(tech_family)
    return iris, tech_family


def node_iris(store: Store) -> dict[str, list[str]]:
    """The IRIs of every node that is not a model, per node type, in :func:`export_graph`'s row order
    (a few class lookups: whether a scorer was built for this graph, without exporting it)."""
    return _nodes(store, lambda node_type: None)[0]


def export_neighbourhood(store: Store, devices: Collection[str], dlns: Collection[str] = (),
                         techniques: Collection[str] = ()) -> ExportedGraph:
    """The export (without tensors) of ``devices``, ``dlns`` and ``techniques`` (IRIs) and everything
    the models deployed on those devices link to: what :func:`gnn.predict.predict_configuration`
    reads about one configuration (memory fit, models measured on the device, the same configuration
    measured) in a few lookups, not an export of every model. Because the scope is closed under the
    models' relations, each kept node's row data equal the whole export's."""
    models = {r[0].value for r in _select(store, f"""
        SELECT DISTINCT ?m WHERE {{ {_only('d', devices)} ?m dlom:deployedOn ?d }}""")}
    relations = {"usesDLN": "dln", "deployedOn": "device", "appliesOptimization": "technique",
                 "usesFramework": "framework", "usesCompiler": "framework", "usesCloudConfiguration": "cloud"}
    scope: dict[str, set[str]] = {"model": models, "dln": set(dlns), "device": set(devices),
                                  "technique": set(techniques), "framework": set(), "cloud": set()}
    for p, o in _select(store, f"""
            SELECT DISTINCT ?p ?o WHERE {{ {_only('m', models)} ?m ?p ?o .
              FILTER(?p IN ({', '.join(f'dlom:{r}' for r in relations)}) && isIRI(?o)) }}"""):
        scope[relations[p.value.removeprefix(str(DLOM))]].add(o.value)
    for (o,) in _select(store, f"""
            SELECT DISTINCT ?o WHERE {{ {_only('s', scope['device'])} ?s dlom:usesFramework|dlom:usesCompiler ?o . FILTER(isIRI(?o)) }}"""):
        scope["framework"].add(o.value)
    return export_graph(store, require_measurements=False, tensors=False, scope=scope)


def _hetero_data(attrs: dict[str, list[dict[str, object]]], iris: dict[str, list[str]], tech_family: dict[str, str],
                 compilers: set[str], targets: np.ndarray, model_dln: np.ndarray, model_device: np.ndarray,
                 tech_links: list[list[int]], model_fw: list[list[int]], cloud_links: list[list[int]],
                 device_fw: list[list[int]], device_hardware: list[str | None]) -> HeteroData:
    """The PyTorch Geometric graph of :func:`export_graph` (features, targets, edges and their reverses)."""
    import torch
    from torch_geometric.data import HeteroData

    n_models = len(iris["model"])
    data = HeteroData()
    data["dln"].x = _matrix((dln_features(a) for a in attrs["dln"]), "dln")
    data["device"].x = _matrix((device_features(a) for a in attrs["device"]), "device")
    data["technique"].x = _matrix(
        (technique_features(a, tech_family[iri]) for a, iri in zip(attrs["technique"], iris["technique"])), "technique")
    data["framework"].x = _matrix(
        (framework_features(a, iri in compilers) for a, iri in zip(attrs["framework"], iris["framework"])), "framework")
    data["cloud"].x = _matrix((cloud_features(a) for a in attrs["cloud"]), "cloud")
    data["model"].x = torch.cat([torch.ones((n_models, 1)), torch.zeros((n_models, 2 * len(METRICS)))], dim=1)
    data["model"].y = torch.tensor(targets, dtype=torch.float32)
    per_relation = {
        "uses_dln": [(i, int(model_dln[i])) for i in range(n_models)],
        "deployed_on": [(i, int(model_device[i])) for i in range(n_models)],
        "applies": [(i, t) for i in range(n_models) for t in tech_links[i]],
        "uses_framework": [(i, f) for i in range(n_models) for f in model_fw[i]],
        "uses_cloud": [(i, c) for i in range(n_models) for c in cloud_links[i]],
    }
    for rel, target_type in MODEL_RELATIONS:
        ei = _edge_index(per_relation[rel])
        data["model", rel, target_type].edge_index = ei
        data[target_type, f"rev_{rel}", "model"].edge_index = ei.flip(0)
    dfw = _edge_index((d, f) for d, fs in enumerate(device_fw) for f in fs)
    data["device", "device_framework", "framework"].edge_index = dfw
    data["framework", "rev_device_framework", "device"].edge_index = dfw.flip(0)
    # The configurations of one physical board (each round and submitter makes a device node of its own)
    # exchange messages, so a board measured before informs a new configuration of it; both directions.
    by_hardware: dict[str, list[int]] = defaultdict(list)
    for d, hw in enumerate(device_hardware):
        if hw is not None:
            by_hardware[hw].append(d)
    data["device", "same_hardware", "device"].edge_index = _edge_index(
        (a, b) for rows in by_hardware.values() for a in rows for b in rows if a != b)
    return data


def message_edges(graph: ExportedGraph, keep_models: np.ndarray | None) -> dict[tuple[str, str, str], torch.Tensor]:
    """The edges message passing may use: every edge, except those of models where ``keep_models`` is
    False (held-out models must not shape the embeddings of the devices they test)."""
    import torch

    edges = {et: graph.data[et].edge_index for et in graph.data.edge_types}
    if keep_models is None:
        return edges
    keep = torch.as_tensor(np.asarray(keep_models, dtype=bool))
    out = {}
    for (src, rel, dst), ei in edges.items():
        if src == "model":
            ei = ei[:, keep[ei[0]]] if ei.numel() else ei
        elif dst == "model":
            ei = ei[:, keep[ei[1]]] if ei.numel() else ei
        out[(src, rel, dst)] = ei
    return out
