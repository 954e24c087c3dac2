"""The DLNs, devices and techniques a user names (by IRI or label), and what tells them apart.

One resolver for every ``dlom gnn`` command: :func:`resolve` looks the name up in the store (a few
SPARQL lookups, no export of the graph) and answers an :class:`Entity`, or raises
:class:`~gnn.errors.UnknownEntityError` — for a name that matches nothing, and for one that matches
several entities, listing each candidate's IRI and what distinguishes it (framework, parameters, the
network a technique was applied to, ...), because a label alone often does not: MLPerf Inference
submits one board with several software stacks under one system name, and DLOM's bench records one
"fp16 conversion" per network it converted.

Matching, in order: the IRI itself; the label, whole and case-insensitive; a substring of the label.
The first rule with exactly one match decides; several matches are ambiguous, never a guess.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyoxigraph import NamedNode

from gnn.errors import UnknownEntityError
from kg.binding import values_rows
from kg.namespaces import DLOM, SPARQL_PREFIXES
from kg.store import Store
from kg.terms import to_python

NOUNS: dict[str, str] = {"dln": "DLN", "device": "device", "technique": "technique"}
# The triple pattern that makes ?s an entity of each kind (the classes gnn.export exports).
_MEMBERSHIP: dict[str, str] = {
    "dln": "?s a dlom:DLN .",
    "device": "?s a dlom:EndDevice .",
    "technique": "?s a ?class . ?class rdfs:subClassOf* dlom:OptimizationTechnique .",
}
# What describes an entity, most telling first: (name shown, literal property or a query variable).
_FACTS: dict[str, tuple[tuple[str, str], ...]] = {
    "dln": (("task", "task"), ("family", "architectureFamily"), ("parameters", "numberOfParameters"),
            ("MACs", "macs"), ("trained on", "trainingDataset")),
    "device": (("framework", "?linked"), ("processor", "processor"), ("SoC", "soc"), ("accelerator", "accelerator"),
               ("clock MHz", "clockFrequencyMHz"), ("memory KB", "memoryKB"), ("OS", "operatingSystem"),
               ("form factor", "formFactor")),
    "technique": (("applied to", "?linked"), ("family", "?family"), ("precision", "precision"),
                  ("scheme", "quantizationScheme"), ("bits", "bitWidth"), ("sparsity", "sparsity"),
                  ("runtime", "runtime"), ("tool", "toolName")),
}
# The labels of what an entity links to, as the "?linked" fact: a device's frameworks, the DLNs of
# the models that apply a technique.
_LINKED: dict[str, str] = {
    "device": "VALUES ?p { dlom:usesFramework dlom:usesCompiler } ?s ?p ?x . ?x rdfs:label ?v .",
    "technique": "?m dlom:appliesOptimization ?s ; dlom:usesDLN ?x . ?x rdfs:label ?v .",
}
SHOWN = 10  # candidates listed in an ambiguity error


@dataclass(frozen=True)
class Entity:
    """A DLN, device or technique of the store; ``detail`` names what distinguishes it from the
    other entities of its label (its main facts when it shares its label with none)."""

    kind: str
    iri: str
    label: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"iri": self.iri, "label": self.label, "detail": self.detail}


def _select(store: Store, sparql: str) -> list[tuple]:
    return [tuple(row) for row in store.select(SPARQL_PREFIXES + sparql).rows]


def _labels(store: Store, kind: str) -> dict[str, str]:
    """IRI → label of every entity of ``kind``: the smallest rdfs:label, else the IRI's last segment
    (as :func:`gnn.export.export_graph` labels its rows)."""
    rows = _select(store, f"SELECT ?s ?l WHERE {{ {_MEMBERSHIP[kind]} FILTER(isIRI(?s)) OPTIONAL {{ ?s rdfs:label ?l }} }}")
    labels: dict[str, list[str]] = defaultdict(list)
    for s, lab in rows:
        labels[s.value] += [lab.value] if lab is not None else []
    return {iri: min(found) if found else iri.rsplit("/", 1)[-1] for iri, found in sorted(labels.items())}


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _facts(store: Store, kind: str, iris: Sequence[str]) -> dict[str, dict[str, str]]:
    """IRI → {fact name: value text} for the entities ``iris`` of ``kind`` (several values joined)."""
    subjects = values_rows(["s"], [(NamedNode(i),) for i in iris])
    found: dict[str, dict[str, set[str]]] = {i: defaultdict(set) for i in iris}
    wanted = {prop: name for name, prop in _FACTS[kind] if not prop.startswith("?")}
    for s, p, o in _select(store, f"SELECT ?s ?p ?o WHERE {{ {subjects} ?s ?p ?o . FILTER(isLiteral(?o)) }}"):
        name = wanted.get(p.value.removeprefix(str(DLOM)))
        if name is not None:
            found[s.value][name].add(_text(to_python(o)))
    if kind in _LINKED:
        for s, v in _select(store, f"SELECT DISTINCT ?s ?v WHERE {{ {subjects} {_LINKED[kind]} }}"):
            found[s.value][_FACTS[kind][0][0]].add(v.value)
    if kind == "technique":
        for s, c in _select(store, f"SELECT DISTINCT ?s ?c WHERE {{ {subjects} ?s a ?c . ?c rdfs:subClassOf+ dlom:OptimizationTechnique }}"):
            found[s.value]["family"].add(c.value.removeprefix(str(DLOM)))
    return {i: {name: _joined(found[i][name]) for name, _ in _FACTS[kind] if found[i][name]} for i in iris}


def _joined(values: set[str], most: int = 3) -> str:
    """Several values of one fact, sorted; past ``most`` (a technique applied to dozens of networks)
    the first ones and how many there are."""
    ordered = sorted(values)
    return ", ".join(ordered) if len(ordered) <= most else f"{', '.join(ordered[:most])} … ({len(ordered)} in all)"


def _details(kind: str, facts: Mapping[str, Mapping[str, str]], limit: int = 3) -> dict[str, str]:
    """Per IRI, the facts whose values differ among ``facts``' entities ("name value; ..."); for a
    single entity, or entities alike in every fact, their first facts."""
    names = [name for name, _ in _FACTS[kind]]
    differing = [n for n in names if len({f.get(n) for f in facts.values()}) > 1]
    out = {}
    for iri, f in facts.items():
        present = [n for n in (differing or names) if n in f]
        out[iri] = "; ".join(f"{n} {f[n]}" for n in present[:limit if differing else 2])
    return out


def resolve(store: Store, kind: str, name: str) -> Entity:
    """The entity of ``kind`` ("dln", "device" or "technique") that ``name`` (an IRI or a label)
    names, by the rules of the module docstring. Raises :class:`UnknownEntityError` naming what was
    asked when nothing matches, and listing the candidates (IRI, label, what differs) when several do."""
    noun = NOUNS[kind]
    labels = _labels(store, kind)
    wanted = name.strip().lower()
    if name in labels:
        matches = [name]
    else:
        matches = [i for i, lab in labels.items() if lab.lower() == wanted]
        if not matches and wanted:
            matches = [i for i, lab in labels.items() if wanted in lab.lower()]
    if not matches:
        raise UnknownEntityError(f"unknown {noun} {name!r}: no {noun} with that IRI or label in the store "
                                 f"({len(labels)} {noun}s known)")
    if len(matches) > 1:
        shown = matches[:SHOWN]
        details = _details(kind, _facts(store, kind, shown))
        listing = "; ".join(f"<{i}> {labels[i]!r}" + (f" ({details[i]})" if details[i] else "") for i in shown)
        more = f"; and {len(matches) - SHOWN} more" if len(matches) > SHOWN else ""
        raise UnknownEntityError(f"ambiguous {noun} {name!r}: {len(matches)} match: {listing}{more}; "
                                 "give one of their IRIs")
    iri = matches[0]
    alike = [i for i, lab in labels.items() if lab.lower() == labels[iri].lower()]
    peers = [iri] + [i for i in alike if i != iri][:SHOWN - 1]
    return Entity(kind, iri, labels[iri], _details(kind, _facts(store, kind, peers))[iri])
