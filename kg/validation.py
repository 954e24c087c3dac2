"""SHACL validation of writes, compiled from ``kg/ontology/shapes.ttl``.

The validator implements the SHACL Core constraints the DLOM shapes use — ``sh:targetClass`` (with
subclasses), ``sh:minCount``, ``sh:maxCount``, ``sh:datatype``, ``sh:or`` of datatypes, ``sh:class``,
``sh:nodeKind``, ``sh:minInclusive``, ``sh:minExclusive``, ``sh:maxInclusive``, ``sh:minLength`` —
directly over a batch of triples, so validating an import costs one pass instead of a general SHACL
engine's graph walk. ``tests/test_validation.py`` checks it agrees with pySHACL on the same data.
A shape that uses any other constraint is rejected when the shapes load, so nothing is silently ignored.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from kg.errors import Violation
from kg.namespaces import PREFIXES, RDF, SH, XSD
from kg.ontology import SHAPES_FILE, class_closure

_NUMERIC = {XSD.integer.value, XSD.decimal.value, XSD.double.value, XSD.float.value}
_SUPPORTED = {
    SH.path.value, SH.minCount.value, SH.maxCount.value, SH.datatype.value, SH["or"].value,
    SH["class"].value, SH.nodeKind.value, SH.minInclusive.value, SH.maxInclusive.value,
    SH.minExclusive.value, SH.minLength.value, SH.message.value,
}

TypeLookup = Callable[[Sequence[str]], dict[str, set[str]]]
"""Given node IRIs, returns the rdf:types the store already holds for them."""


@dataclass
class PropertyShape:
    path: str
    min_count: int = 0
    max_count: int | None = None
    datatypes: frozenset[str] = frozenset()
    cls: str | None = None
    node_kind: str | None = None
    min_inclusive: float | None = None
    min_exclusive: float | None = None
    max_inclusive: float | None = None
    min_length: int | None = None

    @property
    def short(self) -> str:
        return _shorten(self.path)


@dataclass
class NodeShape:
    iri: str
    target_class: str
    properties: list[PropertyShape] = field(default_factory=list)


def _objects(store: ox.Store, s, p) -> list:
    return [q.object for q in store.quads_for_pattern(s, p, None, None)]


def _rdf_list(store: ox.Store, head) -> list:
    items = []
    while head != RDF.nil:
        items.append(_objects(store, head, RDF.first)[0])
        head = _objects(store, head, RDF.rest)[0]
    return items


def load_shapes(path: Path = SHAPES_FILE) -> list[NodeShape]:
    """Parse the SHACL shapes file; raises ``ValueError`` for a constraint this validator lacks."""
    g = ox.Store()
    g.load(path=str(path), format=ox.RdfFormat.TURTLE)
    shapes = []
    for q in g.quads_for_pattern(None, SH.targetClass, None, None):
        shape = NodeShape(q.subject.value, q.object.value)
        for prop_node in _objects(g, q.subject, SH.property):
            ps = PropertyShape(path="")
            for pq in g.quads_for_pattern(prop_node, None, None, None):
                key, o = pq.predicate.value, pq.object
                if key not in _SUPPORTED:
                    raise ValueError(f"{path}: constraint {key} in {shape.iri} is not supported")
                if key == SH.path.value:
                    ps.path = o.value
                elif key == SH.minCount.value:
                    ps.min_count = int(o.value)
                elif key == SH.maxCount.value:
                    ps.max_count = int(o.value)
                elif key == SH.datatype.value:
                    ps.datatypes = frozenset({o.value})
                elif key == SH["or"].value:
                    ps.datatypes = frozenset(_objects(g, m, SH.datatype)[0].value for m in _rdf_list(g, o))
                elif key == SH["class"].value:
                    ps.cls = o.value
                elif key == SH.nodeKind.value:
                    ps.node_kind = o.value
                elif key == SH.minInclusive.value:
                    ps.min_inclusive = float(o.value)
                elif key == SH.maxInclusive.value:
                    ps.max_inclusive = float(o.value)
                elif key == SH.minExclusive.value:
                    ps.min_exclusive = float(o.value)
                elif key == SH.minLength.value:
                    ps.min_length = int(o.value)
            shape.properties.append(ps)
        shapes.append(shape)
    return shapes


@lru_cache(maxsize=1)
def dlom_shapes() -> tuple[NodeShape, ...]:
    return tuple(load_shapes())


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


@lru_cache(maxsize=512)
def _shorten(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


_NODE_KINDS: dict[str, type | tuple[type, ...]] = {
    SH.IRI.value: NamedNode,
    SH.Literal.value: Literal,
    SH.BlankNode.value: BlankNode,
    SH.BlankNodeOrIRI.value: (NamedNode, BlankNode),
}
_RDF_TYPE = RDF.type


def _node_kind_ok(term, kind: str) -> bool:
    return isinstance(term, _NODE_KINDS.get(kind, object))


def validate(
    triples: Iterable[Triple],
    existing_types: TypeLookup | None = None,
    existing_counts: Callable[[list[tuple[str, str]]], dict[tuple[str, str], int]] | None = None,
    shapes: Sequence[NodeShape] | None = None,
) -> list[Violation]:
    """SHACL violations of a batch of triples (empty list: valid).

    Focus nodes are the batch's subjects whose type (from the batch, else from ``existing_types``)
    is a shape's target class or a subclass of it. A node typed only in the store is being extended:
    its new values are checked, and ``sh:maxCount`` counts the store's values too
    (``existing_counts``), while ``sh:minCount`` held before and cannot be broken by adding.
    ``sh:class`` accepts a value typed in the batch or in the store.
    """
    shapes = dlom_shapes() if shapes is None else shapes
    values: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    batch_types: dict[str, set[str]] = defaultdict(set)
    for t in triples:
        values[str(t.subject)][t.predicate.value].append(t.object)
        if t.predicate == _RDF_TYPE and isinstance(t.object, NamedNode):
            batch_types[str(t.subject)].add(t.object.value)

    # One store lookup for the types of (a) subjects the batch extends without typing them and
    # (b) values of sh:class properties that the batch does not type.
    class_paths = {ps.path for shape in shapes for ps in shape.properties if ps.cls}
    unknown = {s[1:-1] for s in values if s not in batch_types and s.startswith("<")}
    for props in values.values():
        for p in class_paths & props.keys():
            unknown.update(v.value for v in props[p] if isinstance(v, NamedNode) and str(v) not in batch_types)
    store_types = existing_types(sorted(unknown)) if (existing_types and unknown) else {}
    extended = {f"<{k}>" for k, v in store_types.items() if v} - batch_types.keys()

    def classes_of(node) -> set[str]:
        types = batch_types.get(str(node)) or (store_types.get(node.value) if isinstance(node, NamedNode) else None)
        return class_closure(types) if types else set()

    applicable_cache: dict[frozenset[str], list[PropertyShape]] = {}

    def applicable(types: set[str]) -> list[PropertyShape]:
        key = frozenset(types)
        if key not in applicable_cache:
            closure = class_closure(types)
            applicable_cache[key] = [ps for shape in shapes if shape.target_class in closure for ps in shape.properties]
        return applicable_cache[key]

    violations: list[Violation] = []
    max_checks: list[tuple[str, str, int, str, int]] = []
    for subject, props in values.items():
        types = batch_types.get(subject) or (store_types.get(subject[1:-1]) if subject in extended else None)
        if not types:
            continue
        focus = subject[1:-1] if subject.startswith("<") else subject
        is_extension = subject in extended
        for ps in applicable(types):
            vals = props.get(ps.path, ())
            if not is_extension and len(vals) < ps.min_count:
                violations.append(Violation(focus, ps.short, f"needs at least {ps.min_count} value(s), has {len(vals)}"))
            if ps.max_count is not None:
                if is_extension:
                    max_checks.append((focus, ps.path, len(vals), ps.short, ps.max_count))
                elif len(vals) > ps.max_count:
                    violations.append(Violation(focus, ps.short, f"allows at most {ps.max_count} value(s), has {len(vals)}"))
            for v in vals:
                violations.extend(_value_violations(focus, ps, v))
                if ps.cls and isinstance(v, NamedNode) and ps.cls not in classes_of(v):
                    violations.append(Violation(focus, ps.short, f"value must be a {_shorten(ps.cls)}", str(v)))
    if max_checks and existing_counts:
        counts = existing_counts([(f, p) for f, p, _, _, _ in max_checks])
        for focus, p, added, short, limit in max_checks:
            total = added + counts.get((focus, p), 0)
            if total > limit:
                violations.append(Violation(focus, short, f"allows at most {limit} value(s), would have {total}"))
    return violations


def _value_violations(focus: str, ps: PropertyShape, v) -> list[Violation]:
    out: list[Violation] = []
    path = ps.short
    if ps.node_kind and not _node_kind_ok(v, ps.node_kind):
        out.append(Violation(focus, path, f"must be a {_local(ps.node_kind)}", str(v)))
    if ps.datatypes:
        if not isinstance(v, Literal) or v.datatype.value not in ps.datatypes:
            expected = " or ".join(sorted(_shorten(d) for d in ps.datatypes))
            out.append(Violation(focus, path, f"must be a literal of type {expected}", str(v)))
            return out
    if isinstance(v, Literal) and (ps.min_inclusive is not None or ps.max_inclusive is not None or ps.min_exclusive is not None):
        if v.datatype.value not in _NUMERIC:
            out.append(Violation(focus, path, "must be a number", str(v)))
            return out
        try:
            x = float(v.value)
        except ValueError:
            out.append(Violation(focus, path, "is not a valid number", str(v)))
            return out
        if ps.min_inclusive is not None and x < ps.min_inclusive:
            out.append(Violation(focus, path, f"must be ≥ {ps.min_inclusive:g}", v.value))
        if ps.min_exclusive is not None and x <= ps.min_exclusive:
            out.append(Violation(focus, path, f"must be > {ps.min_exclusive:g}", v.value))
        if ps.max_inclusive is not None and x > ps.max_inclusive:
            out.append(Violation(focus, path, f"must be ≤ {ps.max_inclusive:g}", v.value))
    if ps.min_length is not None and isinstance(v, Literal | NamedNode) and len(v.value) < ps.min_length:
        out.append(Violation(focus, path, f"must have at least {ps.min_length} character(s)", str(v)))
    return out
