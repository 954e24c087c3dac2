"""Read-only queries behind the web UI's exploration tools: entity search by label (hardware first,
counted and paged), an entity's neighbourhood as a node/edge graph (large groups of links as clusters that
page through their members; a device configuration drawn as its physical board, :mod:`kg.hardware`), the
labels and units of a SPARQL result's IRIs, a model's card (the fields of the paper's Fig. 8b), and the
data of the UI's charts (latency against accuracy; predicted against measured).

Every user value enters a query as a typed term through ``Store.select(substitutions=...)``; nothing a
user types becomes query text. Each function returns plain JSON-ready Python data and states what a
missing value means (``None`` = the graph does not record it).
"""
from __future__ import annotations

import functools
import re
import weakref
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from collections.abc import Iterable
from typing import Any

from pyoxigraph import Literal, NamedNode

from kg.binding import values_rows
from kg.derived_results import derive_in_background, derived, kept
from kg.errors import DlomError
from kg.framework_names import offered_framework_names
from kg.label_index import LabelIndex, RankedMatches, build_label_index, ranked_matches
from kg.namespaces import DLOM, DLOM_VOCABULARIES, PREFIXES, SPARQL_PREFIXES
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


_MINOR_CLASSES = ("SourceFile", "MeasuredPerformance", "PredictedPerformance", "CopiedPerformance", "BenchmarkRun", "Rating")

SEARCH_RANKS: tuple[str, ...] = ("hardware", "entity", "model", "record")
"""The order of search results (issue 19: "Nucleo" must find the boards first): physical hardware
(``dlom:Hardware``, one entity per product across sources), then every other described thing (a
device configuration, a DLN, a framework, a submitter, a class), then models (thousands of them name
their board, so they would bury it), then provenance records (source files, performance records, runs)."""

MAX_SEARCH_OFFSET = 10_000


@dataclass
class SearchPage:
    """One page of :func:`search_page`: ``results`` from ``offset`` (at most ``limit``) of ``total`` matches,
    and how many matches each rank of :data:`SEARCH_RANKS` holds (``by_rank``; ranks without matches are left out)."""

    query: str
    results: list[EntityRef]
    total: int
    offset: int
    limit: int
    by_rank: dict[str, int] = field(default_factory=dict)
    hardware: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per result IRI, how it stands to a physical product (:func:`_hardware_notes`); a result without an entry has none."""

    def to_dict(self) -> dict[str, Any]:
        results = [{**asdict(r), "hardware": self.hardware.get(r.iri)} for r in self.results]
        return {"query": self.query, "results": results, "total": self.total,
                "offset": self.offset, "limit": self.limit, "by_rank": self.by_rank,
                "has_more": self.offset + len(self.results) < self.total}


def _rank_expression() -> str:
    """A SPARQL expression of ?c giving its entity's rank (an index into :data:`SEARCH_RANKS`); an entity's
    rank is the largest over its classes, so a record that is also something else still sorts with the records."""
    minor = ", ".join(f"<{DLOM[c].value}>" for c in _MINOR_CLASSES)
    return (f"COALESCE(IF(?c = <{DLOM.Hardware.value}>, 0, IF(?c IN ({minor}), 3, IF(?c = <{DLOM.Model.value}>, 2, 1))), 1)")


def rank_of_classes(classes: Iterable[str | None]) -> int:
    """What :func:`_rank_expression` gives for an entity whose rdf:type values are ``classes`` (IRI
    strings; ``[None]`` for an entity without types): the largest rank over them."""
    minor = {DLOM[c].value for c in _MINOR_CLASSES}
    return max(0 if c == DLOM.Hardware.value else 3 if c in minor else 2 if c == DLOM.Model.value else 1
               for c in classes)


_LABEL_INDEX_KEY = ("exploration.label_index",)


def _build_label_index(store: Store) -> LabelIndex:
    return build_label_index(store, rank_of_classes)


# The stores whose search keeps a label index: those asked for one once (the server's warm-up, a benchmark,
# a test). Another store's searches never start a build — seconds of CPU and ~170 MB on the shipped graph,
# which a one-shot command or a test's short-lived server would pay for nothing.
_INDEXED: weakref.WeakSet[Store] = weakref.WeakSet()


def label_index(store: Store) -> LabelIndex | None:
    """The store's label index (:mod:`kg.label_index`) at its current generation, built here if needed
    (benchmarks, tests, the server's warm-up); None for a store without a generation (Neo4j, remote).
    From now on the store's searches keep it current (rebuilt in the background after a change)."""
    if getattr(store, "generation", None) is None:
        return None
    _INDEXED.add(store)
    return derived(store, _LABEL_INDEX_KEY, lambda: _build_label_index(store), DLOM_VOCABULARIES)


def warm_label_index_in_background(store: Store) -> None:
    """Build the store's label index in a daemon thread (``dlom serve`` at start-up), and keep it from
    now on as :func:`label_index` does; nothing for a store without a generation."""
    if getattr(store, "generation", None) is None:
        return
    _INDEXED.add(store)
    derive_in_background(store, _LABEL_INDEX_KEY, lambda: _build_label_index(store), DLOM_VOCABULARIES)


def _matches_by_sparql(store: Store, needle: str, class_iri: str | None) -> list[tuple[int, str, str]]:
    """(rank, shown label, IRI) of every match, in display order, by one SPARQL query (the reference)."""
    subs: dict[str, Term] = {"needle": Literal(needle.lower())}
    class_pattern = ""
    if class_iri:
        subs["wanted"] = parse_iri(class_iri, "class")
        class_pattern = "?s a ?wanted ."
    # One query lists every match with its rank; sorting and counting happen here. That reads the labels
    # once (0.9 s for "nucleo" on the shipped graph), where a page query and a count query read them twice.
    rows = _select(store, f"""
        SELECT ?s (MIN(STR(?label)) AS ?name) (MAX({_rank_expression()}) AS ?rank) WHERE {{
          ?s rdfs:label ?label . {class_pattern}
          FILTER(isIRI(?s) && CONTAINS(LCASE(STR(?label)), ?needle))
          OPTIONAL {{ ?s a ?c }}
        }} GROUP BY ?s""", subs)
    return sorted(((int(_value(r, "rank")), _value(r, "name"), _value(r, "s")) for r in rows),
                  key=lambda m: (m[0], len(m[1]), m[1], m[2]))


def search_page(store: Store, text: str, class_iri: str | None = None, limit: int = 20, offset: int = 0,
                *, through_index: bool = True) -> SearchPage:
    """Entities whose rdfs:label contains ``text`` (case-insensitive), ranked by :data:`SEARCH_RANKS`, then
    shortest label first, then by label and IRI (a stable order, so pages never overlap); optionally only
    instances of ``class_iri``. ``total`` counts every match. An IRI given as ``text`` with no label match
    finds that entity.

    The matches come from the store's label index (:mod:`kg.label_index`) when it is current, else from
    the SPARQL query — the same answer (``tests/test_label_index.py``). A store keeps an index once asked
    for one (:func:`label_index`, :func:`warm_label_index_in_background`: ``dlom serve`` at start-up); after a
    write the query answers while the index is rebuilt in the background (a rebuild takes seconds on the
    shipped graph, the query one); a store without a generation always runs the query. ``through_index=False`` runs the query.

    Raises :class:`ExplorationInputError` (field ``q``) when ``text`` is shorter than two characters or longer
    than 200, (field ``class``) for a malformed class IRI, and (field ``offset``) for an offset outside
    0..:data:`MAX_SEARCH_OFFSET`.
    """
    needle = (text or "").strip()
    if not MIN_SEARCH_CHARS <= len(needle) <= MAX_SEARCH_CHARS:
        raise ExplorationInputError("q", f"type between {MIN_SEARCH_CHARS} and {MAX_SEARCH_CHARS} characters")
    if not 0 <= int(offset) <= MAX_SEARCH_OFFSET:
        raise ExplorationInputError("offset", f"must be between 0 and {MAX_SEARCH_OFFSET}")
    limit = max(1, min(int(limit), MAX_SEARCH_RESULTS))
    index: LabelIndex | None = None
    # a needle with NUL would match across the index's label separators; the query handles it
    if through_index and "\x00" not in needle:
        index = kept(store, _LABEL_INDEX_KEY, DLOM_VOCABULARIES)
        if index is None and store in _INDEXED:
            derive_in_background(store, _LABEL_INDEX_KEY, lambda: _build_label_index(store), DLOM_VOCABULARIES)
    if index is not None:
        wanted = parse_iri(class_iri, "class").value if class_iri else None
        matches = ranked_matches(index, needle.lower(), wanted)
    else:
        matches = _matches_by_sparql(store, needle, class_iri)
    counted = (matches.rank_counts() if isinstance(matches, RankedMatches)
               else Counter(rank for rank, _, _ in matches))
    by_rank = {SEARCH_RANKS[rank]: counted[rank] for rank in sorted(counted)}
    page = matches[int(offset): int(offset) + limit]
    classes = _classes_of(store, [iri for _, _, iri in page])
    found = [EntityRef(iri, name, classes.get(iri, [])) for _, name, iri in page]
    total = sum(by_rank.values())
    if not total and ":" in needle:
        # an IRI pasted into the search box: find the entity itself, whatever its label
        try:
            node = parse_iri(needle, "q")
        except ExplorationInputError:
            node = None
        head = describe_node(store, node) if node is not None else None
        if head is not None:
            found, total = ([head] if offset == 0 else []), 1
    return SearchPage(needle, found, total, int(offset), limit, by_rank, _hardware_notes(store, [r.iri for r in found]))


def _hardware_notes(store: Store, iris: list[str]) -> dict[str, dict[str, Any]]:
    """For each of ``iris`` that is a hardware entity: ``{"kind", "configurations"}`` (its hardware kind and
    how many per-source configurations it has); for each that is a configuration of one: ``{"board":
    {"iri", "label"}}`` — so a search result says which physical board a submitter's device entity is."""
    if not iris:
        return {}
    rows = _select(store, f"""
        SELECT ?s ?kind (COUNT(DISTINCT ?c) AS ?n) ?hw (MIN(STR(?hl)) AS ?hwLabel) WHERE {{
          {values_rows(["s"], [(NamedNode(i),) for i in iris])}
          {{ ?s dlom:hardwareKind ?kind OPTIONAL {{ ?s dlom:hasConfiguration ?c }} }}
          UNION {{ ?s dlom:hardware ?hw OPTIONAL {{ ?hw rdfs:label ?hl }} }}
        }} GROUP BY ?s ?kind ?hw""")
    notes: dict[str, dict[str, Any]] = {}
    for r in rows:
        note = notes.setdefault(_value(r, "s"), {})
        if r.get("kind") is not None:
            note.update(kind=_value(r, "kind"), configurations=int(_value(r, "n")))
        if r.get("hw") is not None:
            note["board"] = {"iri": _value(r, "hw"), "label": _value(r, "hwLabel") or local_name(_value(r, "hw"))}
    return notes


def search_entities(store: Store, text: str, class_iri: str | None = None,
                    limit: int = 20) -> list[EntityRef]:
    """The first page of :func:`search_page` (same order, same errors) as a list."""
    return search_page(store, text, class_iri, limit).results


def _classes_of(store: Store, iris: list[str]) -> dict[str, list[str]]:
    """The compact classes of each of ``iris`` (IRIs the store returned), in one query."""
    if not iris:
        return {}
    rows = _select(store, f"""
        SELECT ?s (GROUP_CONCAT(DISTINCT STR(?c); separator=" ") AS ?classes) WHERE {{
          {values_rows(["s"], [(NamedNode(i),) for i in iris])} ?s a ?c }} GROUP BY ?s""")
    return {_value(r, "s"): _classes(_value(r, "classes")) for r in rows}


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

CLUSTER_AT = 12
"""A group of more than this many links of one predicate, direction and neighbour class is drawn as one
cluster node ("183 Models via usesDLN") rather than as that many overlapping nodes."""
MAX_CLUSTER_PAGE = 100

# Each of these pairs is stored both ways (an inverse pair, a symmetric property): a link is listed once,
# from the side it points out of, so a board and its configuration are not joined by two edges.
_LISTED_OUT_ONLY = ("hardware", "hasConfiguration", "possiblySameHardwareAs")


@dataclass
class Cluster:
    """``count`` neighbours linked by ``predicate`` in ``direction`` ("in": they point at the centre; "out":
    the centre points at them) whose main class is ``class_iri`` ("" for no class), drawn as one node.
    ``label`` reads e.g. "183 Models via usesDLN"; :func:`cluster_members` pages through the members."""

    id: str
    direction: str
    predicate: str
    predicate_label: str
    class_iri: str
    class_label: str
    count: int
    label: str


@dataclass
class Neighbourhood:
    """An entity, the entities it links to and that link to it (rdf:type edges left out: classes are node
    attributes), and its literal values.

    Large groups of links (more than ``cluster_at`` of one predicate, direction and class) come as
    ``clusters``, not as nodes; if the remaining individual links are more than ``limit``, the largest
    remaining groups are clustered too, so every link is either an edge or counted in a cluster.
    ``truncated`` is true when some links are in clusters.

    One node per physical board: a neighbour that is a configuration of a ``dlom:Hardware`` entity (an
    ``dlom:EndDevice`` or ``dlom:CloudConfiguration`` of one submitter and round, linked by
    ``dlom:hardware``) is shown as that hardware entity; the edge's ``via`` lists the configurations it
    stands for. A hardware entity's own neighbourhood adds the links of its configurations (the models
    deployed on any of them, their frameworks), each with ``via``, and lists the configurations
    themselves (``hasConfiguration``), so every per-source entity stays one click away.
    """

    center: EntityRef
    nodes: list[EntityRef]
    edges: list[dict[str, Any]]
    literals: list[dict[str, Any]]
    truncated: bool
    clusters: list[Cluster] = field(default_factory=list)
    links: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _links_pattern(hardware_centre: bool, direction: str | None = None) -> str:
    """The group pattern binding ?dir, ?p, ?node (the neighbour as shown: its hardware entity, when it is a
    configuration of one) and ?v (the configuration a folded link goes through) for the centre ?s."""
    # a zero-or-one path, not a UNION: a UNION's branches would not see ?s bound (bottom-up evaluation)
    scope = "?s dlom:hasConfiguration? ?x ." if hardware_centre else "BIND(?s AS ?x)"
    sides = {"out": '{ ?x ?p ?n . BIND("out" AS ?dir) }', "in": '{ ?n ?p ?x . BIND("in" AS ?dir) }'}
    chosen = [sides[direction]] if direction else [sides["out"], sides["in"]]
    out_only = ", ".join(f"dlom:{p}" for p in _LISTED_OUT_ONLY)
    return f"""{scope}
          {" UNION ".join(chosen)}
          FILTER(isIRI(?n) && ?p != rdf:type && ?n != ?s && ?n != ?x)
          FILTER(?dir = "out" || ?p NOT IN ({out_only}))
          OPTIONAL {{ ?n dlom:hardware ?hw . FILTER(?hw != ?s && ?p NOT IN ({out_only})) }}
          BIND(COALESCE(?hw, ?n) AS ?node)
          BIND(IF(BOUND(?hw), ?n, IF(?x != ?s, ?x, ?unbound)) AS ?v)"""


def _per_neighbour(hardware_centre: bool, direction: str | None = None) -> str:
    """A subquery: one row per (?dir, ?p, ?node) with the node's main class ?cls ("" without one), its
    classes and the configurations ?via (space-separated) it is reached through."""
    return f"""{{ SELECT ?dir ?p ?node (COALESCE(MIN(STR(?c)), "") AS ?cls)
                 (GROUP_CONCAT(DISTINCT STR(?c); separator=" ") AS ?classes)
                 (GROUP_CONCAT(DISTINCT STR(?v); separator=" ") AS ?via) WHERE {{
          {_links_pattern(hardware_centre, direction)}
          OPTIONAL {{ ?node a ?c }}
        }} GROUP BY ?dir ?p ?node }}"""


def _is_hardware(centre: EntityRef) -> bool:
    return "dlom:Hardware" in centre.classes


def _plural(label: str, count: int) -> str:
    """'Model' → 'Models', 'Deep learning network' → 'Deep learning networks' (the part before any
    parenthesis); singular for one."""
    if count == 1:
        return label
    head, paren, tail = label.partition(" (")
    if head.endswith(("s", "x", "ch", "sh")):
        head += "es"
    elif head.endswith("y") and head[-2:-1] not in "aeiou":
        head = head[:-1] + "ies"
    elif head.endswith("performance"):
        head += " records"
    else:
        head += "s"
    return head + (paren + tail if paren else "")


def _class_labels(store: Store, classes: set[str]) -> dict[str, str]:
    named = sorted(c for c in classes if c)
    if not named:
        return {}
    rows = _select(store, f"""SELECT ?c (MIN(STR(?l)) AS ?label) WHERE {{
        {values_rows(["c"], [(NamedNode(c),) for c in named])} ?c rdfs:label ?l }} GROUP BY ?c""")
    labels = {c: local_name(c) for c in named}
    labels.update({_value(r, "c"): _value(r, "label") for r in rows})
    return labels


def _cluster(direction: str, predicate: str, class_iri: str, count: int, class_label: str) -> Cluster:
    noun = _plural(class_label or "linked entity", count)
    # "via <link>" either way: the edge's arrow in the drawing says which way the link points
    return Cluster(id=f"{direction} {predicate} {class_iri}", direction=direction, predicate=predicate,
                   predicate_label=local_name(predicate), class_iri=class_iri, class_label=class_label,
                   count=count, label=f"{count:,} {noun} via {local_name(predicate)}")


def neighbourhood(store: Store, iri: str, limit: int = 60, cluster_at: int = CLUSTER_AT) -> Neighbourhood:
    """The one-hop neighbourhood of ``iri``, at most ``limit`` individual links, groups of more than
    ``cluster_at`` links as clusters (see :class:`Neighbourhood`). Raises :class:`ExplorationInputError`
    (field ``iri``) for a malformed IRI, (``limit``, ``cluster_at``) for a bound outside 1..200, and
    :class:`LookupError` when the store does not mention the IRI."""
    node = parse_iri(iri)
    limit = _bounded(limit, "limit", 1, MAX_NEIGHBOURS)
    cluster_at = _bounded(cluster_at, "cluster_at", 1, MAX_NEIGHBOURS)
    center = describe_node(store, node)
    if center is None:
        raise LookupError(f"{iri} is not in the knowledge graph")
    hardware_centre = _is_hardware(center)
    groups = _select(store, f"""SELECT ?dir ?p ?cls (COUNT(?node) AS ?n) WHERE {{ {_per_neighbour(hardware_centre)} }}
        GROUP BY ?dir ?p ?cls ORDER BY ?dir ?p ?cls""", {"s": node})
    sizes = {(_value(r, "dir"), _value(r, "p"), _value(r, "cls") or ""): int(_value(r, "n")) for r in groups}
    clustered = {k for k, n in sizes.items() if n > cluster_at}
    # still too many single links for one drawing: cluster the largest remaining groups first
    for key in sorted((k for k in sizes if k not in clustered), key=lambda k: -sizes[k]):
        if sum(n for k, n in sizes.items() if k not in clustered) <= limit:
            break
        clustered.add(key)
    single = [k for k in sizes if k not in clustered]
    nodes: dict[str, EntityRef] = {}
    edges: list[dict[str, Any]] = []
    if single:
        wanted = values_rows(["dir", "p", "cls"], [(Literal(d), NamedNode(p), Literal(c)) for d, p, c in single])
        rows = _select(store, f"""
            SELECT ?dir ?p ?node ?classes ?via (MIN(STR(?l)) AS ?label) WHERE {{
              {_per_neighbour(hardware_centre)}
              {wanted}
              OPTIONAL {{ ?node rdfs:label ?l }}
            }} GROUP BY ?dir ?p ?node ?classes ?via ORDER BY ?dir ?p ?label ?node""", {"s": node})
        for r in rows:
            other = _value(r, "node")
            nodes.setdefault(other, EntityRef(other, _value(r, "label") or local_name(other), _classes(_value(r, "classes"))))
            pred = _value(r, "p")
            source, target = (iri, other) if _value(r, "dir") == "out" else (other, iri)
            edges.append({"source": source, "target": target, "predicate": pred, "label": local_name(pred),
                          "via": sorted((_value(r, "via") or "").split())})
    labels = _class_labels(store, {c for _, _, c in clustered})
    clusters = [_cluster(d, p, c, sizes[(d, p, c)], labels.get(c, "")) for d, p, c in sorted(clustered)]
    literal_rows = _select(store, """
        SELECT ?p ?o WHERE { ?s ?p ?o . FILTER(isLiteral(?o)) } ORDER BY ?p LIMIT 60""", {"s": node})
    literals = [{"predicate": compact(_value(r, "p")), "value": _short(_value(r, "o"))} for r in literal_rows]
    return Neighbourhood(center, list(nodes.values()), edges, literals, bool(clusters), clusters, sum(sizes.values()))


DIRECTIONS = ("in", "out")


@dataclass
class ClusterPage:
    """Members ``offset``..``offset+len(members)`` of one cluster of :func:`neighbourhood` (by label, then
    IRI); each member's ``via`` lists the configurations it is reached through (see :class:`Neighbourhood`)."""

    cluster: Cluster
    members: list[dict[str, Any]]
    offset: int
    limit: int

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["total"] = self.cluster.count
        out["has_more"] = self.offset + len(self.members) < self.cluster.count
        return out


def _bounded(value: Any, field_name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ExplorationInputError(field_name, f"must be a whole number between {low} and {high}") from None
    if not low <= number <= high:
        raise ExplorationInputError(field_name, f"must be between {low} and {high}")
    return number


def cluster_members(store: Store, iri: str, predicate: str, direction: str, class_iri: str = "",
                    offset: int = 0, limit: int = 25) -> ClusterPage:
    """One page of the neighbours of ``iri`` linked by ``predicate`` in ``direction`` whose main class is
    ``class_iri`` ("" for none) — the members of a cluster of :func:`neighbourhood`, with the same folding
    of configurations into their hardware.

    Raises :class:`ExplorationInputError` naming the field (``iri``, ``predicate``, ``class``: not an
    absolute IRI; ``direction``: not "in" or "out"; ``offset``: outside 0..:data:`MAX_SEARCH_OFFSET`;
    ``limit``: outside 1..:data:`MAX_CLUSTER_PAGE`) and :class:`LookupError` when the store does not
    mention ``iri``.
    """
    node = parse_iri(iri)
    pred = parse_iri(predicate, "predicate")
    wanted_class = parse_iri(class_iri, "class").value if class_iri else ""
    if direction not in DIRECTIONS:
        raise ExplorationInputError("direction", 'must be "in" (they link to the entity) or "out"')
    offset = _bounded(offset, "offset", 0, MAX_SEARCH_OFFSET)
    limit = _bounded(limit, "limit", 1, MAX_CLUSTER_PAGE)
    center = describe_node(store, node)
    if center is None:
        raise LookupError(f"{iri} is not in the knowledge graph")
    per = _per_neighbour(_is_hardware(center), direction)
    subs: dict[str, Term] = {"s": node, "p": pred, "wanted": Literal(wanted_class)}
    total = _select(store, f"SELECT (COUNT(?node) AS ?n) WHERE {{ {per} FILTER(?cls = ?wanted) }}", subs)
    rows = _select(store, f"""
        SELECT ?node ?classes ?via (MIN(STR(?l)) AS ?label) WHERE {{
          {per} FILTER(?cls = ?wanted)
          OPTIONAL {{ ?node rdfs:label ?l }}
        }} GROUP BY ?node ?classes ?via ORDER BY ?label ?node LIMIT {limit} OFFSET {offset}""", subs)
    count = int(_value(total[0], "n")) if total else 0
    label = _class_labels(store, {wanted_class}).get(wanted_class, "")
    members = [{**asdict(EntityRef(_value(r, "node"), _value(r, "label") or local_name(_value(r, "node")),
                                   _classes(_value(r, "classes")))),
                "via": sorted((_value(r, "via") or "").split())} for r in rows]
    return ClusterPage(_cluster(direction, pred.value, wanted_class, count, label), members, offset, limit)


def _short(value: Any, width: int = 300) -> Any:
    if isinstance(value, str) and len(value) > width:
        return value[: width - 1] + "…"
    return value


# -- labels and units of a query's result ----------------------------------------------------------

MAX_LABELLED_IRIS = 500

QUDT_UNIT = "http://qudt.org/schema/qudt/unit"
UNIT_SYMBOLS: dict[str, str | None] = {
    "MegaHZ": "MHz", "KibiBYTE": "KB", "MegaBYTE": "MB", "CCY_USD": "USD", "MilliSEC": "ms", "MicroJ": "µJ",
    "MilliW": "mW", "MegaPIXEL": "MP", "PERCENT": "%", "UNITLESS": None, "NUM": None,
}
"""The symbol shown after a value of a property with that QUDT unit (``qudt:unit`` in the ontology; the
property IRIs name the same units, e.g. ``dlom:memoryKB``). Counts and ratios (NUM, UNITLESS) show none;
a unit missing here shows its QUDT local name."""


def labels_and_units(store: Store, iris: list[str]) -> dict[str, dict[str, str]]:
    """For each of ``iris`` the graph knows: its rdfs:label (``labels``) and, for a property with a
    ``qudt:unit``, the unit's symbol (``units``; see :data:`UNIT_SYMBOLS`). IRIs without either are left
    out; duplicates are looked up once.

    Raises :class:`ExplorationInputError` (field ``iris``) for more than :data:`MAX_LABELLED_IRIS` IRIs,
    and (field ``iris.N``) for an entry that is not an absolute IRI.
    """
    if len(iris) > MAX_LABELLED_IRIS:
        raise ExplorationInputError("iris", f"at most {MAX_LABELLED_IRIS} IRIs per request ({len(iris)} given)")
    nodes = {parse_iri(i, f"iris.{n}").value for n, i in enumerate(iris)}
    labels: dict[str, str] = {}
    units: dict[str, str] = {}
    if not nodes:
        return {"labels": labels, "units": units}
    rows = _select(store, f"""
        SELECT ?i (MIN(STR(?l)) AS ?label) (MIN(?u) AS ?unit) WHERE {{
          {values_rows(["i"], [(NamedNode(i),) for i in sorted(nodes)])}
          OPTIONAL {{ ?i rdfs:label ?l }} OPTIONAL {{ ?i <{QUDT_UNIT}> ?u }}
        }} GROUP BY ?i""")
    for r in rows:
        iri = _value(r, "i")
        if r.get("label") is not None:
            labels[iri] = _value(r, "label")
        if r.get("unit") is not None:
            name = local_name(_value(r, "unit"))
            symbol = UNIT_SYMBOLS.get(name, name)
            if symbol:
                units[iri] = symbol
    return {"labels": labels, "units": units}


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
    spaces), training datasets, inference frameworks (their families, and the
    :func:`~kg.framework_names.framework_name` of a framework of none), server hardware, and device boards."""
    def distinct(pattern: str) -> list[str]:
        rows = _select(store, f"SELECT DISTINCT ?v WHERE {{ {pattern} }} ORDER BY ?v LIMIT 500")
        return [str(_value(r, "v")) for r in rows if r.get("v") is not None]

    return {
        "purposes": distinct("?m a dlom:Model ; dlom:purpose ?v"),
        "application_areas": distinct("?m a dlom:Model ; dlom:applicationArea ?v"),
        "networks": distinct("?d a dlom:DLN ; rdfs:label ?v"),
        "training_datasets": distinct("?d a dlom:DLN ; dlom:trainingDataset ?v"),
        "frameworks": offered_framework_names(
            distinct("?f a dlom:Framework ; dlom:frameworkFamily ?v"),
            distinct("?f a dlom:Framework ; rdfs:label ?v FILTER NOT EXISTS { ?f dlom:frameworkFamily ?family }")),
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


@functools.lru_cache(maxsize=4096)  # a chart asks for the same few processors thousands of times
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


def chart_point(model: str, label: str | None, accuracy: float, latency_ms: float, energy_uj: float | None,
                predicted: bool, benchmark: str | None, purpose: str | None, device: str | None,
                device_label: str | None, processor: str | None) -> dict[str, Any]:
    """One point of the latency-accuracy chart (one performance record of a model), as both the query
    (:func:`latency_accuracy_points`) and the facet index (:mod:`decision.chart_data`) give it."""
    return {
        "model": model, "label": label or local_name(model), "accuracy": accuracy, "inference_latency_ms": latency_ms,
        "energy_uj": energy_uj, "kind": "predicted" if predicted else "measured",
        "benchmark": benchmark or purpose or "unknown",
        "device": device_label or (local_name(device) if device else "unknown"), "family": device_family(processor),
    }


def latency_accuracy_points(store: Store) -> dict[str, Any]:
    """Every measured or predicted performance record with both an accuracy and an inference latency:
    one point each, in (model, record) IRI order, with the model's device, the device's family, the
    benchmark and whether the figures are measured or predicted; where a model has several labels,
    benchmarks, purposes or devices, the least. Also how many models there are (so the chart can say
    what it leaves out)."""
    rows = _select(store, """
        SELECT ?m ?perf ?kind (MIN(STR(?label0)) AS ?label) (MIN(?acc0) AS ?acc) (MIN(?lat0) AS ?lat)
               (MIN(?energy0) AS ?energy) (MIN(STR(?bench0)) AS ?bench) (MIN(STR(?purpose0)) AS ?purpose)
               (MIN(STR(?dev0)) AS ?dev) (MIN(STR(?devLabel0)) AS ?devLabel) (MIN(STR(?proc0)) AS ?proc) WHERE {
          ?m a dlom:Model ; dlom:hasPerformance ?perf .
          ?perf a ?kind . FILTER(?kind IN (dlom:MeasuredPerformance, dlom:PredictedPerformance))
          ?perf dlom:accuracy ?acc0 ; dlom:inferenceLatencyMs ?lat0 .
          OPTIONAL { ?perf dlom:energyPerInferenceUj ?energy0 }
          OPTIONAL { ?m rdfs:label ?label0 } OPTIONAL { ?m dlom:benchmark ?bench0 } OPTIONAL { ?m dlom:purpose ?purpose0 }
          OPTIONAL { ?m dlom:deployedOn ?dev0 OPTIONAL { ?dev0 rdfs:label ?devLabel0 } OPTIONAL { ?dev0 dlom:processor ?proc0 } }
        } GROUP BY ?m ?perf ?kind ORDER BY ?m ?perf""")
    points = [chart_point(_value(r, "m"), _value(r, "label"), _value(r, "acc"), _value(r, "lat"), _value(r, "energy"),
                          _value(r, "kind") == DLOM.PredictedPerformance.value, _value(r, "bench"), _value(r, "purpose"),
                          _value(r, "dev"), _value(r, "devLabel"), _value(r, "proc")) for r in rows]
    total = _select(store, "SELECT (COUNT(DISTINCT ?m) AS ?n) WHERE { ?m a dlom:Model }")
    return {"points": points, "models": _value(total[0], "n") if total else 0,
            "models_plotted": len({p["model"] for p in points})}


COMPARED_METRICS: tuple[str, ...] = ("accuracy", "inferenceLatencyMs", "energyPerInferenceUj", "memoryMb")


@dataclass(frozen=True, order=True)
class MetricValue:
    """One figure of one model's performance records, what :func:`predicted_vs_measured` pairs: its
    configuration (DLN, devices, techniques: IRIs), whether it is predicted, and the predictor's version."""

    model: str
    predicted: bool
    metric: str  # one of COMPARED_METRICS
    value: float
    dln: str
    devices: tuple[str, ...]
    techniques: tuple[str, ...]
    label: str
    version: str | None


def pair_predictions(values: Iterable[MetricValue]) -> dict[str, Any]:
    """Each predicted figure beside the mean of the measured figures of the same configuration and
    metric (:func:`predicted_vs_measured`'s answer, from the figures however they were read)."""
    groups: dict[tuple[str, tuple[str, ...], tuple[str, ...]], dict[str, dict[bool, list[MetricValue]]]] = (
        defaultdict(lambda: defaultdict(lambda: defaultdict(list))))
    predicted_records = 0
    for v in sorted(set(values)):
        predicted_records += v.predicted
        groups[(v.dln, v.devices, v.techniques)][v.metric][v.predicted].append(v)
    pairs = []
    for metrics in groups.values():
        for metric, kinds in metrics.items():
            measured = kinds.get(False)
            for p in kinds.get(True, []) if measured else []:
                pairs.append({"metric": metric, "predicted": p.value, "measured": sum(m.value for m in measured) / len(measured),
                              "predicted_model": p.model, "measured_model": measured[0].model,
                              "label": p.label or measured[0].label, "predictor_version": p.version})
    return {"metrics": list(COMPARED_METRICS), "pairs": pairs,
            "predicted_models": len({p.model for g in groups.values() for k in g.values() for p in k.get(True, [])}),
            "predicted_values": predicted_records}


def predicted_vs_measured(store: Store) -> dict[str, Any]:
    """Pairs of a predicted and a measured figure of the same configuration — the same DLN on the
    same device(s) with the same optimization techniques (the same model, or two models with that
    configuration) — for each metric in :data:`COMPARED_METRICS`. ``predicted_values`` counts the
    distinct predicted figures; ``pairs`` is empty until some prediction has been measured."""
    rows = _select(store, """
        SELECT ?m (MIN(STR(?label0)) AS ?label) ?kind ?p ?v ?dln (GROUP_CONCAT(DISTINCT STR(?d); separator=" ") AS ?devices)
               (GROUP_CONCAT(DISTINCT STR(?t); separator=" ") AS ?techniques) ?version WHERE {
          ?m a dlom:Model ; dlom:hasPerformance ?perf . ?perf a ?kind ; ?p ?v .
          FILTER(?kind IN (dlom:MeasuredPerformance, dlom:PredictedPerformance))
          OPTIONAL { ?m rdfs:label ?label0 } OPTIONAL { ?m dlom:usesDLN ?dln }
          OPTIONAL { ?m dlom:deployedOn ?d } OPTIONAL { ?m dlom:appliesOptimization ?t }
          OPTIONAL { ?perf dlom:predictorVersion ?version }
          VALUES ?p { dlom:accuracy dlom:inferenceLatencyMs dlom:energyPerInferenceUj dlom:memoryMb }
        } GROUP BY ?m ?kind ?p ?v ?dln ?version""")
    return pair_predictions(
        MetricValue(_value(r, "m"), _value(r, "kind") == DLOM.PredictedPerformance.value, _value(r, "p")[len(str(DLOM)):],
                    float(_value(r, "v")), _value(r, "dln") or "", tuple(sorted((_value(r, "devices") or "").split())),
                    tuple(sorted((_value(r, "techniques") or "").split())), _value(r, "label") or "", _value(r, "version"))
        for r in rows)


__all__ = ["CLUSTER_AT", "Cluster", "ClusterPage", "EntityRef", "SEARCH_RANKS", "SearchPage", "cluster_members", "labels_and_units", "search_page", "label_index", "rank_of_classes", "warm_label_index_in_background", "ExplorationInputError", "Neighbourhood", "MODEL_CARD_FIELDS", "classes_in_use", "compact", "describe_node",
           "MetricValue", "chart_point", "device_family", "latency_accuracy_points", "pair_predictions", "local_name", "model_card", "neighbourhood",
           "parse_iri", "predicted_vs_measured", "search_entities", "wizard_options"]
