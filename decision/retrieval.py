"""Retrieval: the user's requirements become one SPARQL query over the store (§6, Query 1).

The query text is assembled only from constant fragments written here and in the requirement table
(:mod:`decision.requirement_table`: each requirement's triple pattern and condition, text normalized
as :func:`~decision.requirement_table.normalized_text` does in Python), chosen by *which*
requirements are stated; every user value enters as a typed literal bound through
:func:`kg.binding.bind` (a VALUES block serialized by pyoxigraph) or :func:`kg.binding.values_rows`,
never by string concatenation, so text like ``" } DROP ALL #`` stays one string literal.

Mandatory stated requirements filter; preferred (soft) ones and 'Any' do not. Missing values (see
:mod:`decision.requirements`): a stated mandatory constraint is a *required* triple pattern plus a
FILTER, so models without the attribute are excluded — unless ``allow_unknown``, when the attribute
is OPTIONAL and the FILTER is ``!BOUND(?x) || condition``. Unstated attributes are never required.

Cost: the budget is compared with the *projected deployment cost*: the model's dlom:totalCostUsd,
adjusted to the user's number of devices when the model records its dlom:costPerDeviceUsd and
dlom:numberOfIoTDevices (total + cost per device × (wanted − recorded devices)); otherwise the total
cost as recorded; without a recorded total, the price of its device (dlom:priceUsd, as an importer or
a user recorded it) × the wanted number of devices (else × the model's recorded number) — the device
hardware only. No cost is ever invented: a model with none of these has no projected cost. The
number of devices itself is not a filter (a model deployed on 6 devices can be deployed on 10 — Fig.
8b shows exactly that for a 10-device request).

Benchmark hosts: a model deployed on a dlom:BenchmarkHost (a machine DLOM itself measured on, and its
constrained settings) is not a model for an IoT device and is left out — unless the requirements ask
for 'this machine' (``device.this_machine``), when only such models are candidates.

Performance: the performance filters apply per performance record; only dlom:MeasuredPerformance
counts unless ``include_predicted``. A model's metric is the mean over its matching records, and those
records are its evidence.

Speed: the candidate query fetches only what filtering and scoring need, as numpy columns (10k
candidates stay arrays, not objects); descriptive attributes are loaded by :func:`load_candidates`
for the few models that are shown.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import numpy as np
from pyoxigraph import Literal, NamedNode

from decision.encoded_column import EncodedColumn
from decision.objectives import RawColumns
from decision.requirement_table import ANY_FRAMEWORK, BY_PATH, REQUIREMENTS, Requirement, device_description
from decision.requirements import Requirements
from kg.binding import values_rows
from kg.derived_results import derived
from kg.namespaces import DLOM_VOCABULARIES, SPARQL_PREFIXES
from kg.store import Store
from kg.terms import literal

# variable → (the node it hangs off, its property). Variables are query-internal names. The constrained
# attributes come from the requirement table; the others are what scoring needs. The facet index
# (decision.facet_index) reads the same properties, so this map is the one list of what a candidate holds.
PROPERTIES: dict[str, tuple[str, str]] = {
    "ndev": ("m", "dlom:numberOfIoTDevices"),
    "cpd": ("m", "dlom:costPerDeviceUsd"),
    "params": ("dln", "dlom:numberOfParameters"),
    "macs": ("dln", "dlom:macs"),
    "protocol": ("cloud", "dlom:securityProtocol"),
    "sysLat": ("perf", "dlom:systemLatencyMs"),
    "stab": ("perf", "dlom:stability"),
    "cv": ("perf", "dlom:latencyCv"),
} | {r.var: (r.node, r.predicate) for r in REQUIREMENTS if r.is_column}  # type: ignore[misc]
PRICE = "dlom:priceUsd"
"""The price of a model's device: 'price' hangs off the model through its device, without requiring the
device join the device requirements add."""
_ATTRIBUTES: dict[str, tuple[str, str]] = {v: (node, f"?{node} {prop} ?{v} .") for v, (node, prop) in PROPERTIES.items()} | {
    "price": ("m", f"?m dlom:deployedOn ?priced . ?priced {PRICE} ?price ."),
}
TEXT_VARS = {"protocol"} | {r.var for r in REQUIREMENTS if r.is_column and r.type is str}
PERF_METRICS = {"acc": "accuracy", "lat": "inferenceLatencyMs", "sysLat": "systemLatencyMs",
                 "energy": "energyPerInferenceUj", "tput": "throughputIps", "memMb": "memoryMb",
                 "stab": "stability", "cv": "latencyCv"}
# what Eq. 1's derived objective values need for every candidate (and energy, a measure the Pareto
# chart shows in its unit: CandidateSet.measures)
_SCORING_VARS = ("cost", "ndev", "cpd", "price", "layers", "params", "macs", "shielded", "protocol", "accLoss",
                 "acc", "lat", "sysLat", "stab", "cv", "energy")


# The constraints the candidate query tests on a fetched column, in the table's order.
_CONSTRAINTS: tuple[Requirement, ...] = tuple(r for r in REQUIREMENTS if r.is_column)
CONSTRAINT_VARS: dict[str, str] = {c.path: c.var for c in _CONSTRAINTS}
_BY_VAR: dict[str, Requirement] = {c.var: c for c in _CONSTRAINTS}
"""Requirement path → the query variable holding the value it constrains."""
TESTED_COLUMNS: dict[str, str] = {c.path: c.tested for c in _CONSTRAINTS}
"""Requirement path → the candidate column its condition tests (the budget: the projected cost)."""

_MEASURED_ONLY = "?perf a dlom:MeasuredPerformance ."
_WITH_PREDICTED = ("{ ?perf a dlom:MeasuredPerformance } UNION "
                   "{ ?perf a dlom:PredictedPerformance . BIND(true AS ?predicted) }")
# A model with only predicted performance is not an existing (measured) model. Such models are few, so
# they are found by one query from the (small) set of predicted records and dropped in Python, instead
# of an EXISTS test on every candidate.
_ONLY_PREDICTED = SPARQL_PREFIXES + """SELECT DISTINCT ?m WHERE {
  ?pp a dlom:PredictedPerformance . ?m dlom:hasPerformance ?pp .
  FILTER NOT EXISTS { ?m dlom:hasPerformance ?mp . ?mp a dlom:MeasuredPerformance } }"""
_NOT_ON_HOST = "FILTER NOT EXISTS { ?m dlom:deployedOn ?hostDev . ?hostDev a dlom:BenchmarkHost }"
_ON_HOST = "FILTER EXISTS { ?m dlom:deployedOn ?hostDev . ?hostDev a dlom:BenchmarkHost }"
# Variables that are never a required triple pattern: the budget filters the projected cost, which
# other attributes (cost per device, device price) may give when the total is not recorded.
_COMPUTED_ONLY = {c.var for c in _CONSTRAINTS if c.column}


def _literal(value: object) -> Literal:
    """The typed literal bound for a constraint's parameter (:meth:`Requirement.parameter`'s value)."""
    if isinstance(value, bool | str):
        return literal(value)
    return literal(float(value)) if isinstance(value, float) else literal(value)


@dataclass(frozen=True)
class CandidateQuery:
    """The query text (constant fragments only), the values bound into it, and its SELECT variables."""

    text: str
    params: dict[str, Literal | NamedNode]
    variables: tuple[str, ...]


@dataclass(frozen=True)
class QueryPlan:
    """What the candidate query of some requirements tests, before it is SPARQL: :func:`build_query`
    writes it as query text, :mod:`decision.facet_index` evaluates it over columns, so both read one
    decision of which requirement filters how.

    ``required``/``lenient``: the constraints (variable → its requirement row) that exclude a model
    without the attribute / keep it (``allow_unknown``); ``values``: each one's bound value
    (:meth:`Requirement.parameter`). ``patterns`` are required triple patterns, ``optional`` fetched
    when present, ``used`` both. ``needs_dev``: the model must be deployed on a device.
    ``device_types``/``framework``: the normalized values of those filters (None: not filtered)."""

    required: dict[str, Requirement]
    lenient: dict[str, Requirement]
    values: dict[str, Any]
    patterns: frozenset[str]
    optional: frozenset[str]
    needs_dev: bool
    device_types: list[str] | None
    framework: str | None
    want_devices: int | None
    allow_unknown: bool
    include_predicted: bool
    this_machine: bool

    @property
    def used(self) -> frozenset[str]:
        return self.patterns | self.optional

    @property
    def variables(self) -> tuple[str, ...]:
        """The candidate query's SELECT variables (the candidate set's columns come from them)."""
        return ("m", "perf", "predicted", "cloud", "projCost") + tuple(sorted(self.used))


def plan_query(req: Requirements) -> QueryPlan:
    """The plan of the candidate query for ``req``: required patterns for mandatory constraints,
    OPTIONAL ones for what scoring, soft requirements or ``allow_unknown`` need, nothing for 'Any'."""
    stated = req.stated()
    values: dict[str, Any] = {}
    required: dict[str, Requirement] = {}
    lenient: dict[str, Requirement] = {}  # unknown allowed
    for c in _CONSTRAINTS:
        if c.path not in stated or not req.mandatory(c.path) or not c.states_constraint(stated[c.path]):
            continue  # (e.g. 'shielded execution: not required' is no constraint)
        values[c.var] = c.parameter(stated[c.path])  # type: ignore[index]
        (lenient if req.allow_unknown else required)[c.var] = c  # type: ignore[index]
    soft = {CONSTRAINT_VARS[p] for p in stated if p in CONSTRAINT_VARS and not req.mandatory(p)}
    patterns = set(required) - _COMPUTED_ONLY  # required triple patterns
    optional = (set(_SCORING_VARS) | soft | set(lenient) | (set(required) & _COMPUTED_ONLY)) - patterns
    if "cost" in patterns | optional:
        optional |= {"ndev", "cpd", "price"} - patterns
    used = patterns | optional
    device_types = stated.get("project.device_types") if req.mandatory("project.device_types") else None
    framework = stated.get("device.framework") if req.mandatory("device.framework") else None
    needs_dev = bool(device_types) or framework is not None or any(_ATTRIBUTES[v][0] == "dev" for v in used)
    return QueryPlan(
        required, lenient, values, frozenset(patterns), frozenset(optional), needs_dev,
        BY_PATH["project.device_types"].parameter(device_types) if device_types else None,
        BY_PATH["device.framework"].parameter(framework) if framework is not None else None,
        req.project.number_of_devices, req.allow_unknown, req.include_predicted, req.device.this_machine)


def build_query(req: Requirements) -> CandidateQuery:
    """The candidate query for ``req``: :func:`plan_query`'s plan as SPARQL."""
    plan = plan_query(req)
    params: dict[str, Literal | NamedNode] = {f"p_{v}": _literal(x) for v, x in plan.values.items()}
    patterns, optional, used = plan.patterns, plan.optional, plan.used
    lines = ["?m a dlom:Model ; dlom:usesDLN ?dln ."]
    if plan.needs_dev:
        lines.append("?m dlom:deployedOn ?dev .")
    for node in ("m", "dln", "dev"):
        for var in sorted(v for v in patterns if _ATTRIBUTES[v][0] == node):
            lines.append(_ATTRIBUTES[var][1])
        for var in sorted(v for v in optional if _ATTRIBUTES[v][0] == node):
            lines.append(f"OPTIONAL {{ {_ATTRIBUTES[var][1]} }}")
    if "cost" in used:
        if plan.want_devices is not None:
            params["wantDevices"] = literal(plan.want_devices)
            lines.append("BIND(COALESCE(IF(BOUND(?cost) && BOUND(?cpd) && BOUND(?ndev), "
                         "?cost + ?cpd * (?wantDevices - ?ndev), ?cost), ?price * ?wantDevices) AS ?projCost)")
        else:
            lines.append("BIND(COALESCE(?cost, ?price * ?ndev) AS ?projCost)")
    for node, link, kind in (("cloud", "?m dlom:usesCloudConfiguration ?cloud .", ""),
                             ("perf", "?m dlom:hasPerformance ?perf .",
                              _WITH_PREDICTED if plan.include_predicted else _MEASURED_ONLY)):
        req_here = sorted(v for v in patterns if _ATTRIBUTES[v][0] == node)
        opt_here = sorted(v for v in optional if _ATTRIBUTES[v][0] == node)
        inner = [_ATTRIBUTES[v][1] for v in req_here] + [f"OPTIONAL {{ {_ATTRIBUTES[v][1]} }}" for v in opt_here]
        if req_here:
            lines += [link, kind] + inner
        else:
            lines.append("OPTIONAL { " + " ".join([link, kind] + inner) + " }")
    lines.append(_ON_HOST if plan.this_machine else _NOT_ON_HOST)
    for row in plan.required.values():
        lines.append(f"FILTER({row.sparql_condition()})")
    for row in plan.lenient.values():
        lines.append(f"FILTER(!BOUND(?{row.tested}) || ({row.sparql_condition()}))")
    if plan.device_types:
        row = BY_PATH["project.device_types"]
        types = values_rows([f"p_{row.var}"], [(literal(t),) for t in plan.device_types])
        lines.append(f"FILTER({row.sparql_condition() % types})")
    if plan.framework is not None:
        row = BY_PATH["device.framework"]
        params[f"p_{row.var}"] = _literal(plan.framework)
        lines.append(f"FILTER({row.sparql_condition()} || NOT {ANY_FRAMEWORK})" if plan.allow_unknown
                     else f"FILTER({row.sparql_condition()})")
    variables = plan.variables
    text = (SPARQL_PREFIXES + "SELECT " + " ".join(f"?{v}" for v in variables) + "\nWHERE {\n  "
            + "\n  ".join(lines) + "\n}")
    return CandidateQuery(text, params, variables)


_MEASURES = {"acc": "accuracy", "lat": "inference_latency_ms", "energy": "energy_per_inference_uj"}
"""The query variables :meth:`CandidateSet.measures` reports, by the name explanations give them."""


@dataclass(frozen=True, eq=False)
class RecordLists(Sequence[list[str]]):
    """Per candidate, the IRIs of its matching performance records: candidate i's are
    ``iris[starts[i]:starts[i + 1]]`` (one flat list, not a list per candidate). Reads as a list of lists."""

    iris: list[str]
    starts: np.ndarray

    @classmethod
    def of(cls, lists: Sequence[Sequence[str]]) -> RecordLists:
        return cls([r for rs in lists for r in rs], np.cumsum([0, *map(len, lists)], dtype=np.intp))

    def __len__(self) -> int:
        return len(self.starts) - 1

    @overload
    def __getitem__(self, i: int) -> list[str]: ...
    @overload
    def __getitem__(self, i: slice) -> list[list[str]]: ...

    def __getitem__(self, i: int | slice) -> list[str] | list[list[str]]:
        if isinstance(i, slice):
            return [self[k] for k in range(len(self))[i]]
        if i < 0:
            i += len(self)
        return self.iris[int(self.starts[i]):int(self.starts[i + 1])]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(self[k] == list(other[k]) for k in range(len(self)))

    __hash__ = None  # type: ignore[assignment]


@dataclass
class CandidateSet:
    """The retrieved models as columns: ``iris[i]`` is candidate i; ``numbers[var][i]`` its value of a
    numeric query variable (NaN unknown; performance metrics are means over its matching records),
    ``texts[var][i]`` of a text one; ``records[i]`` its matching performance records."""

    iris: list[str]
    numbers: dict[str, np.ndarray]
    texts: dict[str, Sequence[str | None]]
    records: RecordLists
    predicted: np.ndarray
    has_cloud: np.ndarray
    techniques: np.ndarray
    query: str
    query_ms: float
    # per candidate, the classes (with superclasses) of its techniques, for Table 1 effects
    technique_classes: EncodedColumn = field(default_factory=lambda: EncodedColumn.of([]))
    # per candidate, the dlom:precision of its techniques (e.g. 'w8a8'), for measured effects
    technique_precisions: EncodedColumn = field(default_factory=lambda: EncodedColumn.of([]))
    # answered from the facet index (decision.facet_index): the candidates' rows there, and its generation
    index_rows: np.ndarray | None = None
    index_generation: int | None = None

    def __len__(self) -> int:
        return len(self.iris)

    def measures(self, i: int) -> dict[str, float]:
        """Candidate ``i``'s performance in real units — accuracy (a fraction), inference latency (ms),
        energy per inference (µJ): the means over its matching records, keyed as explanations' attributes
        name them; a measure it does not record is left out."""
        out = {}
        for var, name in _MEASURES.items():
            column = self.numbers.get(var)
            if column is not None and not np.isnan(column[i]):
                out[name] = float(column[i])
        return out

    def raw_columns(self) -> RawColumns:
        nan = np.full(len(self.iris), np.nan)
        n = self.numbers.get
        return RawColumns(
            accuracy=n("acc", nan), stability=n("stab", nan), latency_cv=n("cv", nan), has_cloud=self.has_cloud,
            shielded_execution=n("shielded", nan), security_protocol=self.texts.get("protocol", [None] * len(self.iris)),
            cost_usd=n("projCost", nan), cost_per_device_usd=n("cpd", nan), inference_latency_ms=n("lat", nan),
            system_latency_ms=n("sysLat", nan), parameters=n("params", nan), macs=n("macs", nan),
            layers=n("layers", nan), techniques=self.techniques, accuracy_loss_points=n("accLoss", nan),
            technique_classes=self.technique_classes if len(self.technique_classes) == len(self.iris) else None,
            technique_precisions=(self.technique_precisions if len(self.technique_precisions) == len(self.iris)
                                  else None))


def retrieve(store: Store, req: Requirements, timeout_s: float | None = 30.0) -> CandidateSet:
    """Every model that meets the mandatory requirements, with the columns needed to score it.

    The set is kept until the store changes (:mod:`kg.derived_results`), so ranking the same
    requirements under new preferences — the wizard's loop — does not query again. Read-only.

    Where the store has a current facet index (:mod:`decision.facet_index`: a server warms one) the set
    is computed over its columns; otherwise by the candidate query. Both give the same set: the same
    models in the same order (by IRI), the same columns (``tests/test_facet_index.py``).
    """
    q = build_query(req)

    def compute() -> CandidateSet:
        # imported here: the facet index is built from this module's map of attributes
        from decision.facet_index import candidates_from_index

        fast = candidates_from_index(store, plan_query(req), q)
        return fast if fast is not None else _retrieve(store, req, q, timeout_s)

    return derived(store, candidate_key(req, q), compute, DLOM_VOCABULARIES)


def candidate_key(req: Requirements, q: CandidateQuery | None = None) -> tuple:
    """What the candidate set of ``req`` depends on besides the store: results derived from the
    candidate set are kept under this key (with :mod:`kg.derived_results`)."""
    q = q or build_query(req)
    return ("decision.candidates", q.text, tuple(sorted((k, str(v)) for k, v in q.params.items())),
            req.include_predicted)


def _retrieve(store: Store, req: Requirements, q: CandidateQuery, timeout_s: float | None) -> CandidateSet:
    t0 = time.perf_counter()
    result = store.select(q.text, substitutions=q.params, timeout_s=timeout_s)
    variables = list(result.variables)
    col = {v: variables.index(v) for v in q.variables}
    i_m, i_perf, i_pred, i_cloud = col["m"], col["perf"], col["predicted"], col["cloud"]
    model_vars = [(v, col[v]) for v in q.variables[4:] if v not in PERF_METRICS]
    perf_vars = [(v, col[v]) for v in q.variables if v in PERF_METRICS]

    index: dict[str, int] = {}
    iris: list[str] = []
    firsts: list[dict[str, object]] = []
    records: list[list[str]] = []
    all_predicted: list[bool] = []
    cloud: list[bool] = []
    sums: dict[str, list[float]] = {v: [] for v, _ in perf_vars}
    counts: dict[str, list[int]] = {v: [] for v, _ in perf_vars}
    seen_perf: set[tuple[int, str]] = set()
    excluded: set[str] = set()
    if not req.include_predicted:
        only_predicted = store.select(_ONLY_PREDICTED, timeout_s=timeout_s)
        excluded = {m.value for (m,) in only_predicted.rows}  # type: ignore[union-attr]
    for row in result.rows:
        iri = row[i_m].value  # type: ignore[union-attr]
        if iri in excluded:
            continue
        k = index.get(iri)
        if k is None:
            k = index[iri] = len(iris)
            iris.append(iri)
            firsts.append({v: row[j] for v, j in model_vars if row[j] is not None})
            records.append([])
            all_predicted.append(True)
            cloud.append(row[i_cloud] is not None)
            for v in sums:
                sums[v].append(0.0)
                counts[v].append(0)
        perf = row[i_perf]
        if perf is not None and (k, perf.value) not in seen_perf:
            seen_perf.add((k, perf.value))
            records[k].append(perf.value)
            if row[i_pred] is None:
                all_predicted[k] = False
            for v, j in perf_vars:
                term = row[j]
                if term is not None:
                    sums[v][k] += float(term.value)  # type: ignore[union-attr]
                    counts[v][k] += 1
    numbers: dict[str, np.ndarray] = {}
    texts: dict[str, list[str | None]] = {}
    for v, _ in model_vars:
        if v in TEXT_VARS:
            texts[v] = [f[v].value if v in f else None for f in firsts]  # type: ignore[attr-defined]
        elif v == "shielded":
            numbers[v] = np.array([np.nan if v not in f else (1.0 if f[v].value in ("true", "1") else 0.0)  # type: ignore[attr-defined]
                                   for f in firsts], dtype=float)
        else:
            numbers[v] = np.array([float(f[v].value) if v in f else np.nan for f in firsts], dtype=float)  # type: ignore[attr-defined]
    for v, _ in perf_vars:
        c = np.array(counts[v], dtype=float)
        numbers[v] = np.where(c > 0, np.array(sums[v]) / np.maximum(c, 1), np.nan)
    predicted = np.array([bool(r) and p for r, p in zip(records, all_predicted)], dtype=bool)
    techniques, technique_classes, precisions = technique_columns(store, iris)
    # One order whatever the engine's join order: by IRI (and each model's records by IRI), the order
    # the facet index answers in, so ties in the ranking fall the same way on every path and backend.
    order = sorted(range(len(iris)), key=iris.__getitem__)
    pick = np.array(order, dtype=np.intp)
    return CandidateSet([iris[k] for k in order], {v: c[pick] for v, c in numbers.items()},
                        {v: [t[k] for k in order] for v, t in texts.items()},
                        RecordLists.of([sorted(records[k]) for k in order]),
                        predicted[pick], np.array(cloud, dtype=bool)[pick], techniques[pick],
                        q.text, (time.perf_counter() - t0) * 1000, EncodedColumn.of([technique_classes[k] for k in order]),
                        EncodedColumn.of([precisions[k] for k in order]))


BIND_LIMIT = 500  # below this many candidates, per-candidate lookups bind the IRIs instead of scanning all


def technique_columns(store: Store, iris: list[str]
                      ) -> tuple[np.ndarray, list[frozenset[str]], list[frozenset[str]]]:
    """For each candidate: how many optimization techniques it applies, the classes they are
    instances of with their superclasses (so a technique typed by a subclass of dlom:Quantization
    still counts as Quantization) — what :mod:`decision.objectives` looks Table 1 effects up by — and
    the dlom:precision of its techniques (e.g. 'w8a8', what measured effects are looked up by).

    Four queries: the candidates' techniques, their types, their precisions, then the superclasses of
    the few distinct types (walking rdfs:subClassOf* once per type, not once per technique)."""
    if not iris:
        return np.zeros(0), [], []
    # many candidates: every application is read (no join through the models: rows of other models
    # are dropped here), and each technique's types once, not once per model applying it
    scope = values_rows(["m"], [(NamedNode(i),) for i in iris]) if len(iris) <= BIND_LIMIT else ""
    where = {iri: k for k, iri in enumerate(iris)}
    applied = [(where.get(m.value), t.value) for m, t in store.select(  # type: ignore[union-attr]
        SPARQL_PREFIXES + f"SELECT ?m ?t WHERE {{ {scope} ?m dlom:appliesOptimization ?t }}").rows]
    applied = [(k, t) for k, t in applied if k is not None]
    scope = (values_rows(["t"], [(NamedNode(t),) for t in sorted({t for _, t in applied})])
             if len(applied) <= BIND_LIMIT else "?x dlom:appliesOptimization ?t .")
    type_of: dict[str, set[str]] = {}
    for t, type_ in store.select(SPARQL_PREFIXES + f"SELECT DISTINCT ?t ?type WHERE {{ {scope} "
                                 "?t a ?type FILTER(isIRI(?type)) }").rows:
        type_of.setdefault(t.value, set()).add(type_.value)  # type: ignore[union-attr]
    precision_of: dict[str, set[str]] = {}
    for t, p in store.select(SPARQL_PREFIXES + f"SELECT DISTINCT ?t ?p WHERE {{ {scope} "
                             "?t dlom:precision ?p FILTER(isLiteral(?p)) }").rows:
        precision_of.setdefault(t.value, set()).add(p.value)  # type: ignore[union-attr]
    techniques: list[set[str]] = [set() for _ in iris]
    types: list[set[str]] = [set() for _ in iris]
    precisions: list[set[str]] = [set() for _ in iris]
    for k, t in applied:
        techniques[k].add(t)
        types[k] |= type_of.get(t, set())
        precisions[k] |= precision_of.get(t, set())
    distinct = sorted(set().union(*types))
    closure: dict[str, set[str]] = {t: set() for t in distinct}
    if distinct:
        result = store.select(SPARQL_PREFIXES + "SELECT ?type ?cls WHERE { "
                              + values_rows(["type"], [(NamedNode(t),) for t in distinct])
                              + " ?type rdfs:subClassOf* ?cls . FILTER(isIRI(?cls)) }")
        for type_, cls in result.rows:
            closure[type_.value].add(cls.value)  # type: ignore[union-attr]
    classes = [frozenset(c for t in ts for c in closure[t]) for ts in types]
    return np.array([float(len(t)) for t in techniques]), classes, [frozenset(p) for p in precisions]


@dataclass
class PerformanceRecord:
    iri: str
    predicted: bool
    metrics: dict[str, float] = field(default_factory=dict)


@dataclass
class Candidate:
    """One retrieved model with its descriptive attributes (None = not recorded), for explanations."""

    iri: str
    label: str
    application_area: str | None = None
    purpose: str | None = None
    year: int | None = None
    total_cost_usd: float | None = None
    projected_cost_usd: float | None = None
    number_of_devices: int | None = None
    cost_per_device_usd: float | None = None
    dln: str | None = None
    dln_label: str | None = None
    layers: float | None = None
    parameters: float | None = None
    macs: float | None = None
    training_dataset: str | None = None
    devices: dict[str, str] = field(default_factory=dict)  # IRI → label
    benchmark_hosts: set[str] = field(default_factory=set)  # the devices that are a dlom:BenchmarkHost
    device_prices_usd: dict[str, float] = field(default_factory=dict)  # device IRI → its dlom:priceUsd
    # what the device-types requirement searches: each device's name, board, processor and accelerator
    # (decision.requirement_table.device_description)
    device_descriptions: set[str] = field(default_factory=set)
    frameworks: set[str] = field(default_factory=set)  # the labels and families of its and its devices' frameworks
    memory_kb: float | None = None
    clock_mhz: float | None = None
    form_factors: set[str] = field(default_factory=set)  # its devices' dlom:formFactor (IoT, Phone, ...)
    cloud: str | None = None
    shielded_execution: bool | None = None
    security_protocol: str | None = None
    monthly_cost_usd: float | None = None
    server_hardware: str | None = None
    accuracy_loss_points: float | None = None  # dlom:accuracyLossPoints (measured, possibly on another device)
    records: dict[str, PerformanceRecord] = field(default_factory=dict)
    techniques: int = 0

    @property
    def predicted(self) -> bool:
        """True when every performance record of this candidate is a prediction."""
        return bool(self.records) and all(r.predicted for r in self.records.values())

    def metric(self, name: str) -> float | None:
        """Mean of ``name`` (an ontology property local name) over the matching performance records."""
        vals = [r.metrics[name] for r in self.records.values() if name in r.metrics]
        return sum(vals) / len(vals) if vals else None


_DETAILS = SPARQL_PREFIXES + """SELECT ?m ?label ?area ?purpose ?year ?cost ?ndev ?cpd ?dln ?dlnLabel ?layers ?params
  ?macs ?dataset ?dev ?devLabel ?mem ?clock ?cloud ?shielded ?protocol ?monthly ?hw ?price ?host ?board ?cpu ?acc ?ff ?accLoss WHERE {
  %s
  ?m dlom:usesDLN ?dln .
  OPTIONAL { ?m rdfs:label ?label } OPTIONAL { ?m dlom:applicationArea ?area } OPTIONAL { ?m dlom:purpose ?purpose }
  OPTIONAL { ?m dlom:yearCreated ?year } OPTIONAL { ?m dlom:totalCostUsd ?cost }
  OPTIONAL { ?m dlom:accuracyLossPoints ?accLoss }
  OPTIONAL { ?m dlom:numberOfIoTDevices ?ndev } OPTIONAL { ?m dlom:costPerDeviceUsd ?cpd }
  OPTIONAL { ?dln rdfs:label ?dlnLabel } OPTIONAL { ?dln dlom:numberOfLayers ?layers }
  OPTIONAL { ?dln dlom:numberOfParameters ?params } OPTIONAL { ?dln dlom:macs ?macs }
  OPTIONAL { ?dln dlom:trainingDataset ?dataset }
  OPTIONAL { ?m dlom:deployedOn ?dev .  # a model may run on a cloud configuration alone
             OPTIONAL { ?dev rdfs:label ?devLabel }
             OPTIONAL { ?dev dlom:memoryKB ?mem } OPTIONAL { ?dev dlom:clockFrequencyMHz ?clock }
             OPTIONAL { ?dev dlom:priceUsd ?price } OPTIONAL { ?dev a ?host FILTER(?host = dlom:BenchmarkHost) }
             OPTIONAL { ?dev dlom:board ?board } OPTIONAL { ?dev dlom:processor ?cpu }
             OPTIONAL { ?dev dlom:accelerator ?acc } OPTIONAL { ?dev dlom:formFactor ?ff } }
  OPTIONAL { ?m dlom:usesCloudConfiguration ?cloud .
             OPTIONAL { ?cloud dlom:shieldedExecution ?shielded } OPTIONAL { ?cloud dlom:securityProtocol ?protocol }
             OPTIONAL { ?cloud dlom:monthlyCostUsd ?monthly } OPTIONAL { ?cloud dlom:serverHardware ?hw } }
}"""
_RECORDS = SPARQL_PREFIXES + """SELECT ?perf ?kind ?acc ?lat ?sysLat ?energy ?tput ?memMb ?stab ?cv WHERE {
  %s
  OPTIONAL { ?perf a ?kind . FILTER(?kind = dlom:PredictedPerformance) }
  OPTIONAL { ?perf dlom:accuracy ?acc } OPTIONAL { ?perf dlom:inferenceLatencyMs ?lat }
  OPTIONAL { ?perf dlom:systemLatencyMs ?sysLat } OPTIONAL { ?perf dlom:energyPerInferenceUj ?energy }
  OPTIONAL { ?perf dlom:throughputIps ?tput } OPTIONAL { ?perf dlom:memoryMb ?memMb }
  OPTIONAL { ?perf dlom:stability ?stab } OPTIONAL { ?perf dlom:latencyCv ?cv }
}"""
_FRAMEWORKS = SPARQL_PREFIXES + """SELECT DISTINCT ?m ?fwLabel WHERE {
  %s
  { ?m dlom:usesFramework ?fw } UNION { ?m dlom:deployedOn ?fwDev . ?fwDev dlom:usesFramework ?fw }
  ?fw rdfs:label|dlom:frameworkFamily ?fwLabel
}"""


def _num(term: object) -> float | None:
    return None if term is None else float(term.value)  # type: ignore[attr-defined]


def _text(term: object) -> str | None:
    return None if term is None else term.value  # type: ignore[attr-defined]


def load_candidates(store: Store, found: CandidateSet, indices: list[int]) -> dict[int, Candidate]:
    """The full descriptive record of the chosen candidates (three queries, whatever their number);
    their performance records are the ones that matched the requirements."""
    if not indices:
        return {}
    iris = {found.iris[i]: i for i in indices}
    result = store.select(_DETAILS % values_rows(["m"], [(NamedNode(i),) for i in iris]))
    out: dict[int, Candidate] = {}
    for (m, label, area, purpose, year, cost, ndev, cpd, dln, dln_label, layers, params, macs, dataset,
         dev, dev_label, mem, clock, cloud, shielded, protocol, monthly, hw, price, host, board, cpu, acc, ff,
         acc_loss) in result.rows:
        i = iris[m.value]  # type: ignore[union-attr]
        c = out.get(i)
        if c is None:
            proj = found.numbers.get("projCost")
            c = out[i] = Candidate(
                iri=m.value, label=_text(label) or m.value, application_area=_text(area),  # type: ignore[union-attr]
                purpose=_text(purpose), year=int(year.value) if year is not None else None,
                total_cost_usd=_num(cost),
                projected_cost_usd=None if proj is None or np.isnan(proj[i]) else float(proj[i]),
                number_of_devices=int(ndev.value) if ndev is not None else None, cost_per_device_usd=_num(cpd),
                dln=_text(dln), dln_label=_text(dln_label), layers=_num(layers), parameters=_num(params),
                macs=_num(macs), training_dataset=_text(dataset), memory_kb=_num(mem), clock_mhz=_num(clock),
                cloud=_text(cloud), shielded_execution=None if shielded is None else shielded.value in ("true", "1"),
                security_protocol=_text(protocol), monthly_cost_usd=_num(monthly), server_hardware=_text(hw),
                accuracy_loss_points=_num(acc_loss), techniques=int(found.techniques[i]))
        if dev is not None and dev.value not in c.devices:
            c.devices[dev.value] = _text(dev_label) or dev.value
        if dev is not None and host is not None:
            c.benchmark_hosts.add(dev.value)
        if ff is not None:
            c.form_factors.add(ff.value)
        if dev is not None and price is not None:
            c.device_prices_usd[dev.value] = float(price.value)
        if dev is not None:
            c.device_descriptions.add(device_description(_text(dev_label), _text(board), _text(cpu), _text(acc)))
    scope = values_rows(["m"], [(NamedNode(i),) for i in iris])
    result = store.select(_FRAMEWORKS % scope)
    for m, fw_label in result.rows:
        out[iris[m.value]].frameworks.add(fw_label.value)  # type: ignore[union-attr]
    perf_iris = {r: i for i in indices for r in found.records[i]}
    if perf_iris:
        result = store.select(_RECORDS % values_rows(["perf"], [(NamedNode(p),) for p in perf_iris]))
        for perf, kind, *metrics in result.rows:
            c = out.get(perf_iris[perf.value])  # type: ignore[union-attr]
            if c is not None and perf.value not in c.records:  # type: ignore[union-attr]
                c.records[perf.value] = PerformanceRecord(  # type: ignore[union-attr]
                    perf.value, kind is not None,  # type: ignore[union-attr]
                    {name: float(t.value) for name, t in zip(PERF_METRICS.values(), metrics) if t is not None})
    return out


def labels_of(store: Store, iris: list[str]) -> dict[str, str]:
    """The rdfs:label of each model IRI (the IRI itself when it has none)."""
    out = {i: i for i in iris}
    if iris:
        result = store.select(SPARQL_PREFIXES + "SELECT ?m ?label WHERE { %s ?m rdfs:label ?label }"
                              % values_rows(["m"], [(NamedNode(i),) for i in iris]))
        for m, label in result.rows:
            out[m.value] = label.value  # type: ignore[union-attr]
    return out
