"""Read-only queries behind the web UI's exploration tools: entity search by label, an entity's
neighbourhood as a node/edge graph, a model's card (the fields of the paper's Fig. 8b), and the data
of the UI's charts (latency against accuracy; predicted against measured).

Every user value enters a query as a typed term through ``Store.select(substitutions=...)``; nothing a
user types becomes query text. Each function returns plain JSON-ready Python data and states what a
missing value means (``None`` = the graph does not record it).
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from pyoxigraph import Literal, NamedNode

from kg.errors import DlomError
from kg.namespaces import DLOM, PREFIXES, SPARQL_PREFIXES
from kg.store import Store
from kg.terms import Term, to_python

MAX_SEARCH_RESULTS = 50
MAX_NEIGHBOURS = 200
MIN_SEARCH_CHARS = 2
MAX_SEARCH_CHARS = 200


# -- small shared pieces ---------------------------------------------------------------------------

class ExplorationInputError(DlomError):
    """A user's input to an exploration query is unusable: ``field`` names the input (e.g. ``q``,
    ``iri``) and the message says why."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def compact(iri: str) -> str:
    """``dlom:Model`` for a known namespace, else the IRI itself."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def local_name(iri: str) -> str:
    """The part after the last '#' or '/', e.g. ``deployedOn`` (a readable edge label)."""
    return re.split(r"[#/]", iri.rstrip("/#"))[-1] or iri


def parse_iri(iri: str, field_name: str = "iri") -> NamedNode:
    """A NamedNode for a user-given absolute IRI, or :class:`ExplorationInputError` naming the field and reason."""
    text = (iri or "").strip()
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", text) or any(c in text for c in '<>"{}|^`\\ '):
        raise ExplorationInputError(field_name, "must be an absolute IRI such as https://w3id.org/dlom/id/…")
    try:
        return NamedNode(text)
    except ValueError as e:
        raise ExplorationInputError(field_name, f"not a valid IRI ({e})") from None


def _select(store: Store, sparql: str, substitutions: dict[str, Term] | None = None,
            timeout_s: float | None = 30.0) -> list[dict[str, Term]]:
    return store.select(SPARQL_PREFIXES + sparql, substitutions=substitutions, timeout_s=timeout_s).dicts()


def _value(row: dict[str, Term], name: str) -> Any:
    return to_python(row.get(name))


# -- search ----------------------------------------------------------------------------------------

@dataclass
class EntityRef:
    """An entity as the UI shows it: IRI, a label (its rdfs:label, else its local name) and classes
    (compact IRIs, e.g. ``dlom:EndDevice``)."""

    iri: str
    label: str
    classes: list[str] = field(default_factory=list)


_MINOR_CLASSES = ("SourceFile", "MeasuredPerformance", "PredictedPerformance", "BenchmarkRun", "Rating")


def search_entities(store: Store, text: str, class_iri: str | None = None,
                    limit: int = 20) -> list[EntityRef]:
    """Entities whose rdfs:label contains ``text`` (case-insensitive), shortest label first, then by
    label; optionally only instances of ``class_iri``. An IRI given as ``text`` finds that entity.

    Raises :class:`ExplorationInputError` (field ``q``) when ``text`` is shorter than two characters or longer
    than 200, and (field ``class``) for a malformed class IRI.
    """
    needle = (text or "").strip()
    if not MIN_SEARCH_CHARS <= len(needle) <= MAX_SEARCH_CHARS:
        raise ExplorationInputError("q", f"type between {MIN_SEARCH_CHARS} and {MAX_SEARCH_CHARS} characters")
    limit = max(1, min(int(limit), MAX_SEARCH_RESULTS))
    # provenance records (source files, performance records, runs) rank after the things they describe
    minor = ", ".join(f"<{DLOM[c].value}>" for c in _MINOR_CLASSES)
    subs: dict[str, Term] = {"needle": Literal(needle.lower())}
    class_pattern = ""
    if class_iri:
        subs["wanted"] = parse_iri(class_iri, "class")
        class_pattern = "?s a ?wanted ."
    rows = _select(store, f"""
        SELECT ?s (MIN(STR(?label)) AS ?name) (GROUP_CONCAT(DISTINCT STR(?c); separator=" ") AS ?classes)
               (MAX(IF(?c IN ({minor}), 1, 0)) AS ?minor) WHERE {{
          ?s rdfs:label ?label . {class_pattern}
          FILTER(isIRI(?s) && CONTAINS(LCASE(STR(?label)), ?needle))
          OPTIONAL {{ ?s a ?c }}
        }} GROUP BY ?s ORDER BY ?minor STRLEN(?name) ?name LIMIT {limit}""", subs)
    found = [EntityRef(_value(r, "s"), _value(r, "name"), _classes(_value(r, "classes"))) for r in rows]
    if not found and ":" in needle:
        # an IRI pasted into the search box: find the entity itself, whatever its label
        try:
            node = parse_iri(needle, "q")
        except ExplorationInputError:
            return []
        head = describe_node(store, node)
        if head is not None:
            found = [head]
    return found


def _classes(joined: str | None) -> list[str]:
    return sorted(compact(c) for c in (joined or "").split() if c)


def describe_node(store: Store, iri: NamedNode) -> EntityRef | None:
    """The entity's label and classes, or None when the store never mentions the IRI."""
    rows = _select(store, """
        SELECT (MIN(STR(?l)) AS ?label) (GROUP_CONCAT(DISTINCT STR(?c); separator=" ") AS ?classes)
               (COUNT(?p) AS ?n) WHERE {
          { ?s ?p ?o } UNION { ?x ?p ?s }
          OPTIONAL { ?s rdfs:label ?l } OPTIONAL { ?s a ?c }
        }""", {"s": iri})
    if not rows or not _value(rows[0], "n"):
        return None
    row = rows[0]
    return EntityRef(iri.value, _value(row, "label") or local_name(iri.value), _classes(_value(row, "classes")))


def classes_in_use(store: Store) -> list[dict[str, Any]]:
    """Every class that has instances, with its label and instance count (most instances first) —
    the explorer's class filter."""
    rows = _select(store, """
        SELECT ?c (MIN(STR(?l)) AS ?label) (COUNT(DISTINCT ?s) AS ?n) WHERE {
          ?s a ?c . FILTER(isIRI(?c)) OPTIONAL { ?c rdfs:label ?l }
        } GROUP BY ?c ORDER BY DESC(?n)""")
    return [{"iri": _value(r, "c"), "id": compact(_value(r, "c")), "label": _value(r, "label") or local_name(_value(r, "c")),
             "count": _value(r, "n")} for r in rows]


# -- neighbourhood ---------------------------------------------------------------------------------

@dataclass
class Neighbourhood:
    """An entity, the entities it links to and that link to it (rdf:type edges left out: classes
    are node attributes), and its literal values. ``truncated`` is true when more than ``limit``
    links exist (the first ``limit`` by predicate are returned)."""

    center: EntityRef
    nodes: list[EntityRef]
    edges: list[dict[str, str]]
    literals: list[dict[str, Any]]
    truncated: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def neighbourhood(store: Store, iri: str, limit: int = 60) -> Neighbourhood:
    """The one-hop neighbourhood of ``iri``. Raises :class:`ExplorationInputError` (field ``iri``) for a
    malformed IRI and :class:`LookupError` when the store does not mention it."""
    node = parse_iri(iri)
    center = describe_node(store, node)
    if center is None:
        raise LookupError(f"{iri} is not in the knowledge graph")
    limit = max(1, min(int(limit), MAX_NEIGHBOURS))
    links = _select(store, f"""
        SELECT ?dir ?p ?n (MIN(STR(?l)) AS ?label) (GROUP_CONCAT(DISTINCT STR(?c); separator=" ") AS ?classes) WHERE {{
          {{ ?s ?p ?n . BIND("out" AS ?dir) }} UNION {{ ?n ?p ?s . BIND("in" AS ?dir) }}
          FILTER(isIRI(?n) && ?p != rdf:type && ?n != ?s)
          OPTIONAL {{ ?n rdfs:label ?l }} OPTIONAL {{ ?n a ?c }}
        }} GROUP BY ?dir ?p ?n ORDER BY ?dir ?p ?n LIMIT {limit + 1}""", {"s": node})
    truncated = len(links) > limit
    nodes: dict[str, EntityRef] = {}
    edges = []
    for r in links[:limit]:
        other = _value(r, "n")
        nodes.setdefault(other, EntityRef(other, _value(r, "label") or local_name(other), _classes(_value(r, "classes"))))
        pred = _value(r, "p")
        source, target = (iri, other) if _value(r, "dir") == "out" else (other, iri)
        edges.append({"source": source, "target": target, "predicate": pred, "label": local_name(pred)})
    literal_rows = _select(store, """
        SELECT ?p ?o WHERE { ?s ?p ?o . FILTER(isLiteral(?o)) } ORDER BY ?p LIMIT 60""", {"s": node})
    literals = [{"predicate": compact(_value(r, "p")), "value": _short(_value(r, "o"))} for r in literal_rows]
    return Neighbourhood(center, list(nodes.values()), edges, literals, truncated)


def _short(value: Any, width: int = 300) -> Any:
    if isinstance(value, str) and len(value) > width:
        return value[: width - 1] + "…"
    return value


# -- the model card of Fig. 8b ---------------------------------------------------------------------

MODEL_CARD_FIELDS: tuple[tuple[str, str], ...] = (
    ("total_cost_usd", "Total cost (USD)"), ("purpose", "Purpose"), ("rating", "Ratings (mean, 1-5)"),
    ("year_created", "Year created"), ("field", "Field"), ("number_of_devices", "No. of IoT devices"),
    ("cost_per_device_usd", "Cost of each device (USD)"), ("devices", "IoT device"), ("dln", "DLN"),
    ("cloud", "Cloud server"), ("accuracy", "Accuracy"), ("system_latency_ms", "System latency (ms)"),
    ("inference_latency_ms", "Inference latency (ms)"), ("stability", "Stability (variance of accuracy)"),
    ("memory_mb", "Average runtime memory (MB)"), ("techniques", "Optimization methods"),
)
"""The Fig. 8b fields in the paper's order: (key in :func:`model_card`'s result, label)."""

_PERFORMANCE_METRICS = {
    "accuracy": "accuracy", "system_latency_ms": "systemLatencyMs", "inference_latency_ms": "inferenceLatencyMs",
    "stability": "stability", "memory_mb": "memoryMb", "energy_per_inference_uj": "energyPerInferenceUj",
    "throughput_ips": "throughputIps",
}


def model_card(store: Store, iri: str) -> dict[str, Any]:
    """The Fig. 8b fields of one dlom:Model (see :data:`MODEL_CARD_FIELDS`); a value is None when
    the graph does not record it. Performance figures say whether they were ``measured`` or
    ``predicted`` (with the prediction's confidence). Device, DLN, cloud configuration and techniques
    come with their IRIs and specs so the UI can link their Linked-Data pages.

    Raises :class:`ExplorationInputError` for a malformed IRI and :class:`LookupError` when it is not a model.
    """
    node = parse_iri(iri)
    rows = _select(store, """
        SELECT ?label ?total ?purpose ?year ?field ?area ?n ?cpd ?dln ?dlnLabel (AVG(?rv) AS ?rating) (COUNT(?r) AS ?ratings) WHERE {
          ?m a dlom:Model .
          OPTIONAL { ?m rdfs:label ?label } OPTIONAL { ?m dlom:totalCostUsd ?total } OPTIONAL { ?m dlom:purpose ?purpose }
          OPTIONAL { ?m dlom:yearCreated ?year } OPTIONAL { ?m dlom:field ?field } OPTIONAL { ?m dlom:applicationArea ?area }
          OPTIONAL { ?m dlom:numberOfIoTDevices ?n } OPTIONAL { ?m dlom:costPerDeviceUsd ?cpd }
          OPTIONAL { ?m dlom:usesDLN ?dln OPTIONAL { ?dln rdfs:label ?dlnLabel } }
          OPTIONAL { ?m dlom:hasRating ?r . ?r dlom:ratingValue ?rv }
        } GROUP BY ?label ?total ?purpose ?year ?field ?area ?n ?cpd ?dln ?dlnLabel LIMIT 1""", {"m": node})
    if not rows:
        raise LookupError(f"{iri} is not a dlom:Model in the knowledge graph")
    head = rows[0]
    card: dict[str, Any] = {
        "iri": iri, "label": _value(head, "label") or local_name(iri),
        "total_cost_usd": _value(head, "total"), "purpose": _value(head, "purpose"),
        "rating": _value(head, "rating") if _value(head, "ratings") else None, "ratings_count": _value(head, "ratings"),
        "year_created": _value(head, "year"), "field": _value(head, "field"), "application_area": _value(head, "area"),
        "number_of_devices": _value(head, "n"), "cost_per_device_usd": _value(head, "cpd"),
        "dln": None if head.get("dln") is None else {"iri": _value(head, "dln"), "label": _value(head, "dlnLabel") or local_name(_value(head, "dln"))},
    }
    card["devices"] = [_spec_row(r, "d") for r in _select(store, """
        SELECT ?d ?label ?processor ?clock ?memory ?accelerator ?board ?price ?os WHERE {
          ?m dlom:deployedOn ?d . OPTIONAL { ?d rdfs:label ?label } OPTIONAL { ?d dlom:processor ?processor }
          OPTIONAL { ?d dlom:clockFrequencyMHz ?clock } OPTIONAL { ?d dlom:memoryKB ?memory }
          OPTIONAL { ?d dlom:accelerator ?accelerator } OPTIONAL { ?d dlom:board ?board }
          OPTIONAL { ?d dlom:priceUsd ?price } OPTIONAL { ?d dlom:operatingSystem ?os }
        } ORDER BY ?d""", {"m": node})]
    clouds = [_spec_row(r, "c") for r in _select(store, """
        SELECT ?c ?label ?hardware ?shielded ?protocol ?monthly ?response WHERE {
          ?m dlom:usesCloudConfiguration ?c . OPTIONAL { ?c rdfs:label ?label } OPTIONAL { ?c dlom:serverHardware ?hardware }
          OPTIONAL { ?c dlom:shieldedExecution ?shielded } OPTIONAL { ?c dlom:securityProtocol ?protocol }
          OPTIONAL { ?c dlom:monthlyCostUsd ?monthly } OPTIONAL { ?c dlom:responseTimeMs ?response }
        } ORDER BY ?c""", {"m": node})]
    card["cloud"] = clouds[0] if clouds else None
    card["techniques"] = [{"iri": _value(r, "t"), "label": _value(r, "label") or local_name(_value(r, "t")),
                           "family": _value(r, "familyLabel") or (local_name(_value(r, "family")) if r.get("family") else None)}
                          for r in _select(store, """
        SELECT ?t (MIN(STR(?l)) AS ?label) (MIN(?f) AS ?family) (MIN(STR(?fl)) AS ?familyLabel) WHERE {
          ?m dlom:appliesOptimization ?t . OPTIONAL { ?t rdfs:label ?l }
          OPTIONAL { ?t a ?f . ?f rdfs:subClassOf dlom:OptimizationTechnique OPTIONAL { ?f rdfs:label ?fl } }
        } GROUP BY ?t ORDER BY ?t""", {"m": node})]
    perf = _select(store, """
        SELECT ?perf ?kind ?p ?v ?confidence ?version WHERE {
          ?m dlom:hasPerformance ?perf . ?perf a ?kind . FILTER(?kind IN (dlom:MeasuredPerformance, dlom:PredictedPerformance))
          OPTIONAL { ?perf ?p ?v . FILTER(isLiteral(?v)) }
          OPTIONAL { ?perf dlom:predictionConfidence ?confidence } OPTIONAL { ?perf dlom:predictorVersion ?version }
        }""", {"m": node})
    by_prop = {v: k for k, v in _PERFORMANCE_METRICS.items()}
    figures: dict[str, dict[str, Any]] = {}
    records: dict[str, dict[str, Any]] = {}
    for r in perf:
        kind = "predicted" if _value(r, "kind") == DLOM.PredictedPerformance.value else "measured"
        records.setdefault(_value(r, "perf"), {"iri": _value(r, "perf"), "kind": kind,
                                                "confidence": _value(r, "confidence"), "predictor_version": _value(r, "version")})
        prop = _value(r, "p")
        key = by_prop.get(prop[len(str(DLOM)):]) if prop and prop.startswith(str(DLOM)) else None
        # a measured figure wins over a predicted one for the same field
        if key and (key not in figures or (figures[key]["kind"] == "predicted" and kind == "measured")):
            figures[key] = {"value": _value(r, "v"), "kind": kind, "confidence": _value(r, "confidence")}
    for key in _PERFORMANCE_METRICS:
        card[key] = figures.get(key)
    card["performance_records"] = list(records.values())
    card["fields"] = [{"key": k, "label": label} for k, label in MODEL_CARD_FIELDS]
    return card


def _spec_row(row: dict[str, Term], key: str) -> dict[str, Any]:
    out = {name: to_python(term) for name, term in row.items() if name != key}
    out["iri"] = _value(row, key)
    out.setdefault("label", local_name(out["iri"]))
    return out


# -- wizard options --------------------------------------------------------------------------------

def wizard_options(store: Store) -> dict[str, list[str]]:
    """The values the graph records for the wizard's text answers, so the UI can suggest values that
    can match: purposes, application areas, DLN labels (matched exactly, ignoring case, '-', '_' and
    spaces), training datasets, inference frameworks, server hardware, and device boards."""
    def distinct(pattern: str) -> list[str]:
        rows = _select(store, f"SELECT DISTINCT ?v WHERE {{ {pattern} }} ORDER BY ?v LIMIT 500")
        return [str(_value(r, "v")) for r in rows if r.get("v") is not None]

    return {
        "purposes": distinct("?m a dlom:Model ; dlom:purpose ?v"),
        "application_areas": distinct("?m a dlom:Model ; dlom:applicationArea ?v"),
        "networks": distinct("?d a dlom:DLN ; rdfs:label ?v"),
        "training_datasets": distinct("?d a dlom:DLN ; dlom:trainingDataset ?v"),
        "frameworks": distinct("?f a dlom:Framework ; rdfs:label ?v"),
        "server_hardware": distinct("?c a dlom:CloudConfiguration ; dlom:serverHardware ?v"),
        "boards": distinct("?d a dlom:EndDevice ; dlom:board ?v"),
        "form_factors": distinct("?d a dlom:EndDevice ; dlom:formFactor ?v"),
    }


# -- chart data ------------------------------------------------------------------------------------

_FAMILY_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"cortex[\s®-]*([amr])\s*-?\s*(\d+\+?)", re.I), "Arm Cortex-{0}{1}"),
    (re.compile(r"risc[\s-]*v|andescore|\brv3", re.I), "RISC-V"),
    (re.compile(r"hifi\s*\d", re.I), "Cadence HiFi DSP"),
    (re.compile(r"kryo", re.I), "Qualcomm Kryo"),
    (re.compile(r"x86|xeon|core\s*i\d|epyc|ryzen", re.I), "x86"),
    (re.compile(r"rh850", re.I), "Renesas RH850"),
)


def device_family(processor: str | None) -> str:
    """A coarse processor family for colouring charts, e.g. '32-bit Arm® Cortex®-M4 (DSP + FPU)' →
    'Arm Cortex-M4'; 'unknown' when the device records no processor; otherwise the processor name."""
    if not processor:
        return "unknown"
    for pattern, name in _FAMILY_PATTERNS:
        m = pattern.search(processor)
        if m:
            return name.format(*(g.upper() for g in m.groups()))
    return processor.strip()[:40]


def latency_accuracy_points(store: Store) -> dict[str, Any]:
    """Every model with both an accuracy and an inference latency: one point per (model, device),
    with the device's family, the benchmark and whether the figures are measured or predicted. Also
    how many models lack one of the two (so the chart can say what it leaves out)."""
    rows = _select(store, """
        SELECT ?m ?label ?acc ?lat ?energy ?kind ?bench ?purpose ?dev ?devLabel ?proc WHERE {
          ?m a dlom:Model ; dlom:hasPerformance ?perf .
          ?perf a ?kind . FILTER(?kind IN (dlom:MeasuredPerformance, dlom:PredictedPerformance))
          ?perf dlom:accuracy ?acc ; dlom:inferenceLatencyMs ?lat .
          OPTIONAL { ?perf dlom:energyPerInferenceUj ?energy }
          OPTIONAL { ?m rdfs:label ?label } OPTIONAL { ?m dlom:benchmark ?bench } OPTIONAL { ?m dlom:purpose ?purpose }
          OPTIONAL { ?m dlom:deployedOn ?dev OPTIONAL { ?dev rdfs:label ?devLabel } OPTIONAL { ?dev dlom:processor ?proc } }
        } ORDER BY ?m""")
    points = [{
        "model": _value(r, "m"), "label": _value(r, "label") or local_name(_value(r, "m")),
        "accuracy": _value(r, "acc"), "inference_latency_ms": _value(r, "lat"), "energy_uj": _value(r, "energy"),
        "kind": "predicted" if _value(r, "kind") == DLOM.PredictedPerformance.value else "measured",
        "benchmark": _value(r, "bench") or _value(r, "purpose") or "unknown",
        "device": _value(r, "devLabel") or (local_name(_value(r, "dev")) if r.get("dev") else "unknown"),
        "family": device_family(_value(r, "proc")),
    } for r in rows]
    total = _select(store, "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a dlom:Model }")
    with_both = len({p["model"] for p in points})
    return {"points": points, "models": _value(total[0], "n") if total else 0, "models_plotted": with_both}


COMPARED_METRICS: tuple[str, ...] = ("accuracy", "inferenceLatencyMs", "energyPerInferenceUj", "memoryMb")


def predicted_vs_measured(store: Store) -> dict[str, Any]:
    """Pairs of a predicted and a measured figure of the same configuration — the same DLN on the
    same device(s) with the same optimization techniques (the same model, or two models with that
    configuration) — for each metric in :data:`COMPARED_METRICS`. ``predictions`` counts predicted
    performance records; ``pairs`` is empty until some prediction has been measured."""
    rows = _select(store, """
        SELECT ?m ?label ?kind ?p ?v ?dln (GROUP_CONCAT(DISTINCT STR(?d); separator=" ") AS ?devices)
               (GROUP_CONCAT(DISTINCT STR(?t); separator=" ") AS ?techniques) ?version WHERE {
          ?m a dlom:Model ; dlom:hasPerformance ?perf . ?perf a ?kind ; ?p ?v .
          FILTER(?kind IN (dlom:MeasuredPerformance, dlom:PredictedPerformance))
          OPTIONAL { ?m rdfs:label ?label } OPTIONAL { ?m dlom:usesDLN ?dln }
          OPTIONAL { ?m dlom:deployedOn ?d } OPTIONAL { ?m dlom:appliesOptimization ?t }
          OPTIONAL { ?perf dlom:predictorVersion ?version }
          VALUES ?p { dlom:accuracy dlom:inferenceLatencyMs dlom:energyPerInferenceUj dlom:memoryMb }
        } GROUP BY ?m ?label ?kind ?p ?v ?dln ?version""")
    # configuration → metric → kind → [(value, model, label, version)]
    groups: dict[tuple[str, str, str], dict[str, dict[str, list[tuple[float, str, str, str | None]]]]] = (
        defaultdict(lambda: defaultdict(lambda: defaultdict(list))))
    predicted_records = 0
    for r in rows:
        key = (_value(r, "dln") or "", " ".join(sorted((_value(r, "devices") or "").split())),
               " ".join(sorted((_value(r, "techniques") or "").split())))
        kind = "predicted" if _value(r, "kind") == DLOM.PredictedPerformance.value else "measured"
        predicted_records += kind == "predicted"
        metric = _value(r, "p")[len(str(DLOM)):]
        groups[key][metric][kind].append((float(_value(r, "v")), _value(r, "m"), _value(r, "label") or "", _value(r, "version")))
    pairs = []
    for key, metrics in groups.items():
        for metric, kinds in metrics.items():
            if kinds.get("predicted") and kinds.get("measured"):
                measured = kinds["measured"]
                for value, model, label, version in kinds["predicted"]:
                    pairs.append({"metric": metric, "predicted": value,
                                  "measured": sum(v for v, *_ in measured) / len(measured),
                                  "predicted_model": model, "measured_model": measured[0][1],
                                  "label": label or measured[0][2], "predictor_version": version})
    return {"metrics": list(COMPARED_METRICS), "pairs": pairs,
            "predicted_models": len({m for g in groups.values() for k in g.values() for _, m, _, _ in k.get("predicted", [])}),
            "predicted_values": predicted_records}


__all__ = ["EntityRef", "ExplorationInputError", "Neighbourhood", "MODEL_CARD_FIELDS", "classes_in_use", "compact", "describe_node",
           "device_family", "latency_accuracy_points", "local_name", "model_card", "neighbourhood",
           "parse_iri", "predicted_vs_measured", "search_entities", "wizard_options"]
