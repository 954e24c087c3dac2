"""A Neo4j backend: the knowledge graph as a property graph, with full SPARQL 1.1 on top.

URLs: ``neo4j://[user:password@]host:7687[?database=neo4j&timeout=30]`` (also ``bolt://``,
``neo4j+s://``, ``bolt+s://``). Credentials may come from the URL or from the environment variables
``DLOM_NEO4J_USER`` / ``DLOM_NEO4J_PASSWORD``; without either the driver connects without auth.

Mapping (exact round trip: every quad that goes in comes out again, term for term)
-------------------------------------------------------------------------------
* Every IRI or blank node that is a subject or an IRI/blank-node object is a node labelled
  ``Resource`` with a unique ``uri`` property (the n10s convention). Blank nodes keep their label as
  ``uri = "_:<label>"`` (never a valid absolute IRI, so the two cannot collide).
* A quad whose object is an IRI or blank node is a relationship whose *type is the full predicate IRI*
  and whose ``graph`` property is the graph IRI (``""`` for the default graph). The same triple in two
  graphs is two relationships. ``rdf:type`` is stored like this too (that relationship is the truth,
  with its graph), and additionally the subject gets the class IRI as a *label* (full IRI, not
  shortened, so no prefix registry is needed), e.g. ``MATCH (m:`https://w3id.org/dlom#Model`)``.
* A quad whose object is a literal is a list-valued node property whose key is
  ``"<predicate IRI> <datatype IRI or @lang> <n|l> <graph IRI or empty>"`` (IRIs and language tags
  cannot contain spaces). ``n`` keys hold native Neo4j values (integers for canonical xsd:integer,
  floats for xsd:decimal/xsd:double whose lexical form is the canonical one, booleans, strings);
  ``l`` keys hold the exact lexical form as a string when a native value would not give it back
  (``"007"^^xsd:integer``). Each key's list is homogeneous, as Neo4j requires.
* Constraint: ``Resource.uri`` is unique (which also indexes it). Every :meth:`Neo4jStore.add`,
  :meth:`~Neo4jStore.replace` and :meth:`~Neo4jStore.update` is one Neo4j transaction, written with
  batched ``UNWIND`` statements.

SPARQL
------
Queries and updates are evaluated with rdflib's SPARQL 1.1 algebra evaluator over an rdflib ``Store``
view of the graph (:class:`CypherTripleStore`), and every basic graph pattern is compiled into *one*
Cypher query (:func:`compile_bgp`, installed in rdflib's ``CUSTOM_EVALS``) instead of one lookup per
triple pattern. Results are pyoxigraph terms in :mod:`kg.results` types. ``SERVICE`` is refused
(it would make the server fetch arbitrary URLs).
"""
from __future__ import annotations

import functools
import itertools
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyoxigraph as ox
import rdflib
from neo4j import Driver, GraphDatabase, ManagedTransaction, Transaction
from neo4j.exceptions import ClientError, Neo4jError, ServiceUnavailable
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.sparql import CUSTOM_EVALS
from rdflib.plugins.sparql.evaluate import evalQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import FrozenBindings, QueryContext
from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
from rdflib.plugins.sparql.update import evalUpdate

from kg.binding import bind
from kg.errors import QueryError, QueryTimeoutError, StoreURLError
from kg.stores.nquads import parse_nquads
from kg.results import BooleanResult, GraphResult, QueryResult, Solutions
from kg.store import register_backend
from kg.terms import Term

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
_BATCH = 10_000  # rows per UNWIND statement: large enough to amortize round trips, small enough for memory
_MAX_BRANCHES = 16  # kind assignments of one BGP compiled into one UNION query before falling back
_DEFAULT_TIMEOUT_S = 60.0
_NATIVE_NUMERIC = {XSD + "integer", XSD + "decimal", XSD + "double"}
_CYPHER_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "=", "!=": "<>"}
_PRUNE_KEY = "dlom_prune"  # algebra annotation: FILTER conjuncts a BGP may apply in Cypher

# -- term encoding ----------------------------------------------------------------------------------

NodeKey = str  # an IRI, or "_:" + blank node label
GraphKey = str  # a graph IRI, "_:" + label, or "" for the default graph


@dataclass(frozen=True)
class StoredLiteral:
    """A literal as stored: datatype IRI (or ``@lang``), storage kind (``n`` native / ``l`` lexical), value."""

    dtlang: str
    kind: str
    value: Any

    def key_prefix(self, predicate: str) -> str:
        return f"{predicate} {self.dtlang} {self.kind} "


@dataclass(frozen=True)
class StoredQuad:
    """A quad in storage form: the object is a node key (IRI/blank node) or a :class:`StoredLiteral`."""

    s: NodeKey
    p: str
    o: NodeKey | StoredLiteral
    g: GraphKey


def _decimal_lexical(f: float) -> str:
    # The form kg.terms.literal() writes for floats: shortest repr, never in exponent notation.
    return format(Decimal(repr(f)), "f")


def encode_literal(lexical: str, datatype: str | None, language: str | None) -> StoredLiteral:
    """Storage form of a literal; native Neo4j values only where decoding gives the same lexical form back."""
    if language:
        return StoredLiteral("@" + language, "n", lexical)
    dt = datatype or XSD_STRING
    if dt == XSD_STRING:
        return StoredLiteral(dt, "n", lexical)
    try:
        if dt == XSD + "integer":
            i = int(lexical)
            if str(i) == lexical and -(2**63) <= i < 2**63:
                return StoredLiteral(dt, "n", i)
        elif dt == XSD + "boolean" and lexical in ("true", "false"):
            return StoredLiteral(dt, "n", lexical == "true")
        elif dt == XSD + "decimal":
            f = float(lexical)
            if _decimal_lexical(f) == lexical:
                return StoredLiteral(dt, "n", f)
        elif dt == XSD + "double":
            f = float(lexical)
            if repr(f) == lexical:
                return StoredLiteral(dt, "n", f)
    except (ValueError, InvalidOperation, OverflowError):
        pass
    return StoredLiteral(dt, "l", lexical)


def decode_lexical(dtlang: str, kind: str, value: Any) -> str:
    """The exact lexical form of a stored literal value."""
    if kind == "l" or isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if dtlang == XSD + "decimal":
        return _decimal_lexical(value)
    return repr(value)


def _node_key(term: NamedNode | BlankNode) -> NodeKey:
    return term.value if isinstance(term, NamedNode) else "_:" + term.value


def _graph_key(graph: NamedNode | BlankNode | DefaultGraph) -> GraphKey:
    return "" if isinstance(graph, DefaultGraph) else _node_key(graph)


def _ox_node(key: NodeKey) -> NamedNode | BlankNode:
    return BlankNode(key[2:]) if key.startswith("_:") else NamedNode(key)


def _ox_literal(dtlang: str, kind: str, value: Any) -> Literal:
    lexical = decode_lexical(dtlang, kind, value)
    if dtlang.startswith("@"):
        return Literal(lexical, language=dtlang[1:])
    return Literal(lexical, datatype=NamedNode(dtlang))


def quad_to_stored(q: Quad) -> StoredQuad:
    # Hot path of bulk loads: exact type checks and a cache of literal encodings (labels, categories
    # and small numbers repeat a lot).
    o = q.object
    if type(o) is Literal:
        obj: NodeKey | StoredLiteral = _encode_cached(o.value, o.datatype.value, o.language)
    elif type(o) is NamedNode:
        obj = o.value
    elif type(o) is BlankNode:
        obj = "_:" + o.value
    else:
        raise QueryError(f"the neo4j backend cannot store RDF-star triple terms: {q}")
    s = q.subject
    g = q.graph_name
    return StoredQuad(s.value if type(s) is NamedNode else "_:" + s.value, q.predicate.value, obj,
                      g.value if type(g) is NamedNode else _graph_key(g))


_encode_cached = functools.lru_cache(maxsize=65_536)(encode_literal)


def stored_to_quad(s: NodeKey, p: str, o: NodeKey | tuple[str, str, Any], g: GraphKey) -> Quad:
    obj = _ox_literal(*o) if isinstance(o, tuple) else _ox_node(o)
    graph = DefaultGraph() if g == "" else _ox_node(g)
    return Quad(_ox_node(s), NamedNode(p), obj, graph)


def _ident(name: str) -> str:
    """A Cypher identifier (label / relationship type) quoted in backticks; backticks are doubled."""
    return "`" + name.replace("`", "``") + "`"


def _split_key(key: str) -> tuple[str, str, str, str]:
    p, dtlang, kind, g = key.split(" ", 3)
    return p, dtlang, kind, g


# -- writes (batched UNWIND inside one transaction) ----------------------------------------------


def _chunks(rows: list, size: int = _BATCH) -> Iterator[list]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def write_quads(tx: Transaction | ManagedTransaction, quads: Iterable[StoredQuad]) -> None:
    """Add quads (set semantics: a quad already present is not duplicated) inside ``tx``.

    Nodes that do not exist yet are created with all their literal properties and class labels in one
    ``CREATE`` per row (the bulk-load fast path); literals of existing nodes are merged key by key.
    """
    literals: dict[NodeKey, dict[str, list[Any]]] = {}
    rel_rows: dict[str, list[dict[str, str]]] = {}
    seen_rels: set[StoredQuad] = set()
    labels: dict[NodeKey, list[str]] = {}
    nodes: dict[NodeKey, None] = {}
    for q in quads:
        nodes[q.s] = None
        if isinstance(q.o, StoredLiteral):
            values = literals.setdefault(q.s, {}).setdefault(q.o.key_prefix(q.p) + q.g, [])
            if q.o.value not in values:  # one key holds one datatype, so == is exact here
                values.append(q.o.value)
            continue
        nodes[q.o] = None
        if q in seen_rels:
            continue
        seen_rels.add(q)
        rel_rows.setdefault(q.p, []).append({"s": q.s, "o": q.o, "g": q.g})
        if q.p == RDF_TYPE and not q.o.startswith("_:") and q.o not in labels.setdefault(q.s, []):
            labels[q.s].append(q.o)
    existing: set[NodeKey] = set()
    for chunk in _chunks(list(nodes), 20_000):
        existing |= {r["u"] for r in tx.run("UNWIND $uris AS u MATCH (n:Resource {uri: u}) RETURN u", uris=chunk)}
    fresh = [{"s": n, "props": literals.get(n, {}), "labels": labels.get(n, [])} for n in nodes if n not in existing]
    for chunk in _chunks(fresh):
        tx.run("UNWIND $rows AS row CREATE (n:Resource {uri: row.s}) SET n += row.props SET n:$(row.labels)",
               rows=chunk).consume()
    merge_rows = [{"s": s, "k": k, "vs": vs} for s in existing for k, vs in literals.get(s, {}).items()]
    for chunk in _chunks(merge_rows):
        tx.run(
            "UNWIND $rows AS row MATCH (n:Resource {uri: row.s}) "
            "WITH n, row, coalesce(n[row.k], []) AS old "
            "SET n[row.k] = old + [v IN row.vs WHERE NOT v IN old]",
            rows=chunk,
        ).consume()
    label_rows = [{"s": s, "labels": labels[s]} for s in existing if labels.get(s)]
    for chunk in _chunks(label_rows):
        tx.run("UNWIND $rows AS row MATCH (n:Resource {uri: row.s}) SET n:$(row.labels)", rows=chunk).consume()
    for predicate, rows in rel_rows.items():
        # A relationship touching a node created above cannot exist yet: CREATE it (rows are already
        # de-duplicated); only relationships between existing nodes need MERGE's existence check.
        created = [r for r in rows if r["s"] not in existing or r["o"] not in existing]
        merged = [r for r in rows if r["s"] in existing and r["o"] in existing]
        for verb, subset in (("CREATE", created), ("MERGE", merged)):
            for chunk in _chunks(subset):
                tx.run(
                    "UNWIND $rows AS row MATCH (s:Resource {uri: row.s}) MATCH (o:Resource {uri: row.o}) "
                    f"{verb} (s)-[:{_ident(predicate)} {{graph: row.g}}]->(o)",
                    rows=chunk,
                ).consume()


def delete_quads(tx: Transaction | ManagedTransaction, quads: Iterable[StoredQuad]) -> None:
    """Remove quads (absent ones are ignored) inside ``tx``; class labels follow their rdf:type links."""
    literal_rows: dict[tuple[str, str], list[Any]] = {}
    rel_rows: dict[str, list[dict[str, str]]] = {}
    type_rows: dict[str, list[str]] = {}
    for q in quads:
        if isinstance(q.o, StoredLiteral):
            literal_rows.setdefault((q.s, q.o.key_prefix(q.p) + q.g), []).append(q.o.value)
            continue
        rel_rows.setdefault(q.p, []).append({"s": q.s, "o": q.o, "g": q.g})
        if q.p == RDF_TYPE and not q.o.startswith("_:"):
            type_rows.setdefault(q.o, []).append(q.s)
    for chunk in _chunks([{"s": s, "k": k, "vs": vs} for (s, k), vs in literal_rows.items()]):
        tx.run(
            "UNWIND $rows AS row MATCH (n:Resource {uri: row.s}) "
            "WITH n, row, [v IN coalesce(n[row.k], []) WHERE NOT v IN row.vs] AS rest "
            "SET n[row.k] = CASE WHEN size(rest) = 0 THEN null ELSE rest END",
            rows=chunk,
        ).consume()
    for predicate, rows in rel_rows.items():
        for chunk in _chunks(rows):
            tx.run(
                f"UNWIND $rows AS row MATCH (:Resource {{uri: row.s}})-[r:{_ident(predicate)} {{graph: row.g}}]->"
                "(:Resource {uri: row.o}) DELETE r",
                rows=chunk,
            ).consume()
    for cls, subjects in type_rows.items():
        for chunk in _chunks(subjects):
            tx.run(
                f"UNWIND $uris AS u MATCH (n:Resource {{uri: u}}) "
                f"WHERE NOT EXISTS {{ (n)-[:{_ident(RDF_TYPE)}]->(:Resource {{uri: $cls}}) }} "
                f"REMOVE n:{_ident(cls)}",
                uris=chunk, cls=cls,
            ).consume()


# -- BGP → Cypher ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Var:
    """A variable of a basic graph pattern (SPARQL variables and blank nodes of the query alike)."""

    name: Any  # the rdflib Variable or BNode, so solutions bind the same key rdflib would


@dataclass(frozen=True)
class NodeConst:
    key: NodeKey


PatternTerm = Var | NodeConst | StoredLiteral


@dataclass(frozen=True)
class Catalog:
    """Which predicates occur as relationship types and which as literal property keys (a superset is fine)."""

    relationship_types: frozenset[str]
    literal_predicates: frozenset[str]

    @staticmethod
    def load(tx: Transaction) -> Catalog:
        record = tx.run(
            "CALL db.relationshipTypes() YIELD relationshipType WITH collect(relationshipType) AS rels "
            "CALL db.propertyKeys() YIELD propertyKey RETURN rels, collect(propertyKey) AS keys"
        ).single()
        keys = record["keys"] if record else []
        return Catalog(frozenset(record["rels"] if record else []),
                       frozenset(k.split(" ", 1)[0] for k in keys if " " in k))


@dataclass
class CompiledBGP:
    """One Cypher query for a whole BGP; ``columns`` maps each result column to its variable and role."""

    cypher: str
    params: dict[str, Any]
    columns: list[tuple[str, Var]]


class _Branch:
    """Builds the Cypher of one assignment of kinds (relationship / literal property) to the patterns."""

    def __init__(self, scope: list[GraphKey] | None, params: dict[str, Any]) -> None:
        self.scope = scope
        self.params = params
        self.matches: list[str] = []
        self.tail: list[str] = []
        self.node_alias: dict[Any, str] = {}
        self.literal_of: dict[Var, tuple[str, str]] = {}  # var → (key alias, value alias)
        self.pred_expr: dict[Var, str] = {}
        self.n = 0

    def param(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return "$" + name

    def node(self, term: Var | NodeConst, extra_label: str = "") -> str:
        """A node pattern for the term: declares it on first use, refers to it after."""
        ident = term if isinstance(term, Var) else ("const", term.key)
        alias = self.node_alias.get(ident)
        if alias is not None:
            return f"({alias}{extra_label})"
        alias = f"n{len(self.node_alias)}"
        self.node_alias[ident] = alias
        if isinstance(term, NodeConst):
            return f"({alias}:Resource{extra_label} {{uri: {self.param(term.key)}}})"
        return f"({alias}:Resource{extra_label})"

    def graph_condition(self, expr: str) -> str | None:
        if self.scope is None:
            return None
        return f"{expr} IN {self.param(self.scope)}"

    def relationship(self, s: Var | NodeConst, p: Var | NodeConst, o: Var | NodeConst) -> None:
        self.n += 1
        r = f"r{self.n}"
        if (isinstance(p, NodeConst) and p.key == RDF_TYPE and isinstance(o, NodeConst)
                and not o.key.startswith("_:") and self.scope is None):
            # Union of all graphs: the class label says the same as "some rdf:type relationship", and a
            # label scan is what the Cypher planner is best at.
            self.matches.append(f"MATCH {self.node(s, ':' + _ident(o.key))}")
            return
        rel_type = f":{_ident(p.key)}" if isinstance(p, NodeConst) else ""
        clause = f"MATCH {self.node(s)}-[{r}{rel_type}]->{self.node(o)}"
        cond = self.graph_condition(f"{r}.graph")
        self.matches.append(clause + (f" WHERE {cond}" if cond else ""))
        if isinstance(p, Var):
            self.pred_expr[p] = f"type({r})"

    def literal(self, s: Var | NodeConst, p: Var | NodeConst, o: Var | StoredLiteral) -> None:
        self.n += 1
        subject = self.node(s)
        alias = subject[1:].split(")", 1)[0].split(":", 1)[0]
        if subject != f"({alias})":
            self.matches.append(f"MATCH {subject}")  # the subject appears in literal patterns only
        key_conditions = []
        k = f"k{self.n}"
        if isinstance(o, StoredLiteral):
            if isinstance(p, NodeConst):
                key_conditions.append(f"{k} STARTS WITH {self.param(o.key_prefix(p.key))}")
            else:
                key_conditions.append(f"{k} CONTAINS {self.param(' ' + o.dtlang + ' ' + o.kind + ' ')}")
        elif isinstance(p, NodeConst):
            key_conditions.append(f"{k} STARTS WITH {self.param(p.key + ' ')}")
        else:
            key_conditions.append(f"{k} CONTAINS ' '")
        gcond = self.graph_condition(f"last(split({k}, ' '))")
        if gcond:
            key_conditions.append(gcond)
        conds = " AND ".join(key_conditions)
        if isinstance(o, StoredLiteral) and isinstance(p, NodeConst):
            # Existence test: in the union of graphs the same literal in two graphs is one triple.
            self.tail.append(f"WITH * WHERE any({k} IN keys({alias}) WHERE {conds} AND {self.param(o.value)} IN {alias}[{k}])")
            return
        v = f"v{self.n}"
        self.tail.append(f"UNWIND [{k} IN keys({alias}) WHERE {conds}] AS {k}")
        self.tail.append(f"UNWIND {alias}[{k}] AS {v}")
        if isinstance(o, StoredLiteral):
            self.tail.append(f"WITH * WHERE {v} = {self.param(o.value)}")
        elif o in self.literal_of:  # a literal variable met before: join on datatype, kind and value
            k0, v0 = self.literal_of[o]
            self.tail.append(f"WITH * WHERE split({k}, ' ')[1] = split({k0}, ' ')[1] AND "
                             f"split({k}, ' ')[2] = split({k0}, ' ')[2] AND {v} = {v0}")
        else:
            self.literal_of[o] = (k, v)
        if isinstance(p, Var):
            self.pred_expr[p] = f"split({k}, ' ')[0]"

    def output(self, var: Var) -> str:
        if var in self.pred_expr:
            return self.pred_expr[var]
        if var in self.literal_of:
            k, v = self.literal_of[var]
            return f"[split({k}, ' ')[1], split({k}, ' ')[2], {v}]"
        return f"{self.node_alias[var]}.uri"


def compile_bgp(
    patterns: Sequence[tuple[PatternTerm, PatternTerm, PatternTerm]],
    scope: list[GraphKey] | None,
    catalog: Catalog,
    prune: Sequence[tuple[Var, str, int | float]] = (),
) -> CompiledBGP | None:
    """One Cypher query whose rows are the solutions of the BGP (set semantics, like an RDF dataset).

    ``scope`` is the graphs the BGP is matched in: ``None`` for the union of all graphs, else a list of
    graph keys (an empty list matches nothing). Returns ``None`` when the BGP provably has no solution.
    Raises ``NotImplementedError`` for shapes it does not push down (a predicate variable that also
    occurs elsewhere, or too many relationship/literal ambiguities); rdflib then evaluates the BGP
    pattern by pattern through :meth:`CypherTripleStore.triples`, with the same results.

    ``prune`` holds ``(variable, operator, number)`` conjuncts of an enclosing FILTER. Rows where the
    variable is a natively stored number that fails the comparison are dropped in Cypher; every other
    row is kept, and rdflib still evaluates the whole FILTER on what comes back, so pruning can only
    remove rows the FILTER would have removed.
    """
    if scope is not None and not scope:
        return None
    occurrences: dict[Var, int] = {}
    for s, p, o in patterns:
        for t in (s, p, o):
            if isinstance(t, Var):
                occurrences[t] = occurrences.get(t, 0) + 1
    kinds: list[list[str]] = []
    for s, p, o in patterns:
        if isinstance(s, StoredLiteral) or isinstance(p, StoredLiteral):
            return None
        if isinstance(p, NodeConst) and p.key.startswith("_:"):
            return None
        if isinstance(p, Var) and occurrences[p] > 1:
            raise NotImplementedError("predicate variable used more than once")
        can_rel = (p.key in catalog.relationship_types) if isinstance(p, NodeConst) else bool(catalog.relationship_types)
        can_lit = (p.key in catalog.literal_predicates) if isinstance(p, NodeConst) else bool(catalog.literal_predicates)
        options = []
        if can_rel and not isinstance(o, StoredLiteral):
            options.append("rel")
        if can_lit and not isinstance(o, NodeConst):
            options.append("lit")
        if not options:
            return None
        kinds.append(options)
    assignments = []
    for combo in itertools.product(*kinds):
        node_vars = {s for (s, _, _) in patterns if isinstance(s, Var)}
        node_vars |= {o for (_, _, o), kind in zip(patterns, combo) if kind == "rel" and isinstance(o, Var)}
        literal_vars = {o for (_, _, o), kind in zip(patterns, combo) if kind == "lit" and isinstance(o, Var)}
        if node_vars & literal_vars:
            continue  # a term cannot be both a node and a literal
        assignments.append(combo)
        if len(assignments) > _MAX_BRANCHES:
            raise NotImplementedError("too many relationship/literal ambiguities for one query")
    if not assignments:
        return None
    variables = list(occurrences)
    columns = [(f"c{i}", v) for i, v in enumerate(variables)]
    params: dict[str, Any] = {}
    branches = []
    for combo in assignments:
        b = _Branch(scope, params)
        order = sorted(range(len(patterns)), key=lambda i: combo[i] == "lit")  # relationships first
        for i in order:
            s, p, o = patterns[i]
            if combo[i] == "rel":
                b.relationship(s, p, o)  # type: ignore[arg-type]
            else:
                b.literal(s, p, o)  # type: ignore[arg-type]
        for var, op, number in prune:
            if var in b.literal_of:
                k, v = b.literal_of[var]
                b.tail.append(f"WITH * WHERE NOT (split({k}, ' ')[2] = 'n' AND split({k}, ' ')[1] IN "
                              f"{b.param(sorted(_NATIVE_NUMERIC))}) OR {v} {_CYPHER_OPS[op]} {b.param(number)}")
        returns = ", ".join(f"{b.output(v)} AS {c}" for c, v in columns) or "1 AS c"
        branches.append("\n".join(b.matches + b.tail) + f"\nRETURN DISTINCT {returns}")
    return CompiledBGP("\nUNION\n".join(branches), params, columns)


# -- rdflib store view over one Neo4j transaction ---------------------------------------------------


def _rdflib_node(key: NodeKey) -> rdflib.URIRef | rdflib.BNode:
    return rdflib.BNode(key[2:]) if key.startswith("_:") else rdflib.URIRef(key)


def _rdflib_term(value: Any) -> rdflib.term.Identifier:
    if isinstance(value, list):
        dtlang, kind, v = value
        lexical = decode_lexical(dtlang, kind, v)
        if dtlang.startswith("@"):
            return rdflib.Literal(lexical, lang=dtlang[1:], normalize=False)
        if dtlang == XSD_STRING:  # rdflib tells "x" and "x"^^xsd:string apart; RDF 1.1 does not
            return rdflib.Literal(lexical, normalize=False)
        return rdflib.Literal(lexical, datatype=rdflib.URIRef(dtlang), normalize=False)
    return _rdflib_node(value)


def _pattern_term(term: Any) -> PatternTerm:
    if isinstance(term, rdflib.Literal):
        return encode_literal(str(term), str(term.datatype) if term.datatype else None, term.language)
    if isinstance(term, rdflib.BNode):
        return NodeConst("_:" + str(term))
    return NodeConst(str(term))


def _stored_from_rdflib(s: Any, p: Any, o: Any, g: GraphKey) -> StoredQuad:
    subject, predicate, obj = _pattern_term(s), _pattern_term(p), _pattern_term(o)
    if not isinstance(subject, NodeConst) or not isinstance(predicate, NodeConst):
        raise QueryError(f"cannot store a triple with a literal subject or predicate: {s} {p} {o}")
    return StoredQuad(subject.key, predicate.key, obj.key if isinstance(obj, NodeConst) else obj, g)


class CypherTripleStore(rdflib.store.Store):
    """An rdflib ``Store`` over one open Neo4j transaction, for rdflib's SPARQL evaluator.

    ``default_scope`` is what the default graph is (``None``: union of all graphs; ``[""]``: the real
    default graph, as SPARQL Update uses it; else a list of graphs); ``named_scope`` limits the named
    graphs (``None``: all). Writes are buffered in order and flushed before any read, all in ``tx``.
    """

    context_aware = True
    graph_aware = True
    formula_aware = False
    transaction_aware = False

    def __init__(self, tx: Transaction, default_scope: list[GraphKey] | None,
                 named_scope: list[GraphKey] | None, deadline: float | None) -> None:
        super().__init__()
        self.tx = tx
        self.default_scope = default_scope
        self.named_scope = named_scope
        self.deadline = deadline
        self._pending: list[tuple[bool, StoredQuad]] = []  # (is_add, quad) in request order
        self._catalog: Catalog | None = None

    # reads

    def check_deadline(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise QueryTimeoutError("query exceeded its time limit")

    def catalog(self) -> Catalog:
        self.flush()
        if self._catalog is None:
            self._catalog = Catalog.load(self.tx)
        return self._catalog

    def scope_of(self, graph: Any) -> list[GraphKey] | None:
        """The graph keys a BGP evaluated in rdflib graph ``graph`` must match in."""
        if graph is None or isinstance(graph, rdflib.ConjunctiveGraph):
            return self.default_scope
        ident = graph.identifier if isinstance(graph, rdflib.Graph) else graph
        if ident == DATASET_DEFAULT_GRAPH_ID:
            return [""]
        key = "_:" + str(ident) if isinstance(ident, rdflib.BNode) else str(ident)
        if self.named_scope is not None and key not in self.named_scope:
            return []
        return [key]

    def run_bgp(self, compiled: CompiledBGP) -> Iterator[list[Any]]:
        self.check_deadline()
        for i, record in enumerate(self.tx.run(compiled.cypher, compiled.params)):
            if i % 256 == 0:
                self.check_deadline()
            yield [record[c] for c, _ in compiled.columns]

    def triples(self, triple_pattern: Any, context: Any = None) -> Iterator[tuple[tuple, Iterator]]:
        s, p, o = triple_pattern
        vs, vp, vo = Var("s"), Var("p"), Var("o")
        pattern = (vs if s is None else _pattern_term(s), vp if p is None else _pattern_term(p),
                   vo if o is None else _pattern_term(o))
        compiled = compile_bgp([pattern], self.scope_of(context), self.catalog())
        if compiled is None:
            return
        for row in self.run_bgp(compiled):
            bound = {v: _rdflib_term(x) for (_, v), x in zip(compiled.columns, row)}
            yield (bound.get(vs, s), bound.get(vp, p), bound.get(vo, o)), iter(())

    def __len__(self, context: Any = None) -> int:
        return sum(1 for _ in self.triples((None, None, None), context))

    def contexts(self, triple: Any = None) -> Iterator[rdflib.Graph]:
        self.flush()
        graphs = {r["g"] for r in self.tx.run("MATCH ()-[r]->() RETURN DISTINCT r.graph AS g")}
        graphs |= {r["g"] for r in self.tx.run(
            "MATCH (n:Resource) UNWIND [k IN keys(n) WHERE k CONTAINS ' '] AS k "
            "RETURN DISTINCT last(split(k, ' ')) AS g")}
        graphs.discard("")
        if self.named_scope is not None:
            graphs &= set(self.named_scope)
        for g in sorted(graphs):
            yield rdflib.Graph(store=self, identifier=_rdflib_node(g))

    # writes

    def _graph_key(self, context: Any) -> GraphKey:
        if context is None or isinstance(context, rdflib.ConjunctiveGraph):
            return ""
        ident = context.identifier if isinstance(context, rdflib.Graph) else context
        if ident == DATASET_DEFAULT_GRAPH_ID:
            return ""
        return "_:" + str(ident) if isinstance(ident, rdflib.BNode) else str(ident)

    def add(self, triple: Any, context: Any, quoted: bool = False) -> None:
        s, p, o = triple
        self._pending.append((True, _stored_from_rdflib(s, p, o, self._graph_key(context))))

    def addN(self, quads: Iterable[Any]) -> None:  # noqa: N802 (rdflib's name)
        for s, p, o, c in quads:
            self.add((s, p, o), c)

    def remove(self, triple: Any, context: Any = None) -> None:
        s, p, o = triple
        if context is None or isinstance(context, rdflib.ConjunctiveGraph):
            graphs = self.default_scope if self.default_scope is not None else None
        else:
            graphs = [self._graph_key(context)]
        if None not in (s, p, o) and graphs is not None:
            for g in graphs:
                self._pending.append((False, _stored_from_rdflib(s, p, o, g)))
            return
        # A pattern: find what it matches in each graph, then remove exactly those quads.
        targets = graphs if graphs is not None else self._all_graph_keys()
        doomed = []
        for g in targets:
            ctx = rdflib.Graph(store=self, identifier=DATASET_DEFAULT_GRAPH_ID if g == "" else _rdflib_node(g))
            doomed += [_stored_from_rdflib(ts, tp, to, g) for (ts, tp, to), _ in self.triples((s, p, o), ctx)]
        self._pending += [(False, q) for q in doomed]

    def _all_graph_keys(self) -> list[GraphKey]:
        return [""] + [self._graph_key(g) for g in self.contexts()]

    def add_graph(self, graph: rdflib.Graph) -> None:
        """Graphs exist as long as they hold quads (like Oxigraph); creating an empty one is a no-op."""

    def remove_graph(self, graph: rdflib.Graph) -> None:
        self.remove((None, None, None), graph)

    def flush(self) -> None:
        pending, self._pending = self._pending, []
        for is_add, run in itertools.groupby(pending, key=lambda item: item[0]):
            quads = [q for _, q in run]
            (write_quads if is_add else delete_quads)(self.tx, quads)
        if pending:
            self._catalog = None


def _evaluate_bgp_in_cypher(ctx: QueryContext, part: CompValue) -> Iterator[FrozenBindings]:
    """rdflib custom evaluation: a whole BGP as one Cypher query (only for graphs on a CypherTripleStore)."""
    if part.name != "BGP" or not part.triples:
        raise NotImplementedError
    graph = ctx.graph
    store = getattr(graph, "store", None)
    if not isinstance(store, CypherTripleStore):
        raise NotImplementedError
    patterns = []
    for triple in part.triples:
        pattern = []
        for term in triple:
            value = ctx[term]
            if value is None:
                pattern.append(Var(term))
            elif isinstance(value, rdflib.term.Identifier):
                pattern.append(_pattern_term(value))
            else:
                raise NotImplementedError  # a property path: rdflib evaluates those itself
        patterns.append(tuple(pattern))
    prune = []
    for var, op, other in dict.get(part, _PRUNE_KEY) or ():  # CompValue.get returns the key when missing
        if ctx[var] is not None:
            continue  # bound already: a constant in the pattern, nothing to prune
        value = ctx[other] if isinstance(other, rdflib.Variable) else other
        if isinstance(value, rdflib.Literal):
            number = _pattern_term(value)
            if (isinstance(number, StoredLiteral) and number.kind == "n" and number.dtlang in _NATIVE_NUMERIC
                    and not isinstance(number.value, bool)):
                prune.append((Var(var), op, number.value))
    compiled = compile_bgp(patterns, store.scope_of(graph), store.catalog(), prune)
    if compiled is None:
        return iter(())
    return _solutions(ctx, store, compiled)


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


def _comparisons(expr: Any) -> list[tuple[rdflib.Variable, str, Any]]:
    """The ``?var op term`` conjuncts of a FILTER expression (other conjuncts are left to rdflib)."""
    if not isinstance(expr, CompValue):
        return []
    if expr.name == "ConditionalAndExpression":
        found = _comparisons(expr.expr)
        for other in expr.other or []:
            found += _comparisons(other)
        return found
    if expr.name != "RelationalExpression" or expr.op not in _FLIPPED:
        return []
    left, right = expr.expr, expr.other
    simple = (rdflib.Variable, rdflib.Literal)
    if isinstance(left, rdflib.Variable) and isinstance(right, simple):
        return [(left, expr.op, right)]
    if isinstance(right, rdflib.Variable) and isinstance(left, rdflib.Literal):
        return [(right, _FLIPPED[expr.op], left)]
    return []


def annotate_filter_pushdown(node: Any, conditions: tuple = ()) -> None:
    """Mark each BGP with the FILTER comparisons that may prune its rows in Cypher.

    Conditions travel down through Join, Union, Graph and nested Filters only: there a row that fails
    the comparison on a variable the BGP binds fails the FILTER too. They never cross OPTIONAL, MINUS,
    sub-selects or aggregates, whose scoping would make pruning change the answer.
    """
    if isinstance(node, list | tuple):
        for item in node:
            annotate_filter_pushdown(item, ())
        return
    if not isinstance(node, CompValue):
        return
    name = node.name
    if name == "BGP":
        if conditions:
            node[_PRUNE_KEY] = list(conditions)
        return
    if name == "Filter":
        annotate_filter_pushdown(node.p, conditions + tuple(_comparisons(node.expr)))
        return
    if name in ("Join", "Union"):
        annotate_filter_pushdown(node.p1, conditions)
        annotate_filter_pushdown(node.p2, conditions)
        return
    if name == "Graph":
        annotate_filter_pushdown(node.p, conditions)
        return
    for key, value in node.items():
        if key != "expr" and isinstance(value, CompValue | list):
            annotate_filter_pushdown(value, ())


# Algebra nodes whose in-scope variables are the union of their operands' (SPARQL 1.1 §18.2.1).
_SCOPE_UNION = frozenset({"ToMultiSet", "Join", "LeftJoin", "Filter", "Union", "Graph", "Extend", "Minus"})


def scope_values_variables(node: Any) -> set[rdflib.Variable]:
    """Record the variables of inline data (VALUES) in the ``_vars`` of the algebra above it; returns
    the node's in-scope variables.

    rdflib's translation leaves ``_vars`` of a ``values`` node empty, and its OPTIONAL evaluation uses
    ``p1._vars`` to re-check an unmatched row "without prior bindings": with VALUES on the left that
    re-check ran with *nothing* bound, so ``VALUES ?p {...} OPTIONAL { ?p a ?k FILTER(?k = X) }``
    dropped every row whose ``?p`` had no match whenever some other resource matched (an empty answer
    instead of unbound ``?k``). Only adds variables; Project/SubSelect/aggregates keep their scope.
    """
    if isinstance(node, list | tuple):
        for item in node:
            scope_values_variables(item)
        return set()
    if not isinstance(node, CompValue):
        return set()
    if node.name == "values":
        found = {var for row in node.get("res") or () for var in row}
        node["_vars"] = set(dict.get(node, "_vars") or ()) | found
        return node["_vars"]
    below: set[rdflib.Variable] = set()
    for key, value in node.items():
        if key != "expr" and not key.startswith("_") and isinstance(value, CompValue | list):
            below |= scope_values_variables(value)
    own = set(dict.get(node, "_vars") or ())
    if node.name in _SCOPE_UNION and not below <= own:
        node["_vars"] = own | below
        return node["_vars"]
    return own


def _solutions(ctx: QueryContext, store: CypherTripleStore, compiled: CompiledBGP) -> Iterator[FrozenBindings]:
    base = list(ctx.bindings.items())
    names = [v.name for _, v in compiled.columns]
    for row in store.run_bgp(compiled):
        yield FrozenBindings(ctx, base + [(n, _rdflib_term(x)) for n, x in zip(names, row)])


CUSTOM_EVALS["dlom_neo4j_bgp"] = _evaluate_bgp_in_cypher


def _evaluate_grouped_aggregate(ctx: QueryContext, part: CompValue) -> Iterator[FrozenBindings]:
    """rdflib custom evaluation of an aggregate with GROUP BY (only for graphs on a CypherTripleStore).

    rdflib's own evaluation yields one all-unbound row when nothing matches, which SPARQL 1.1 (§18.5,
    Group) gives only for the implicit single group of an aggregate *without* GROUP BY; grouping zero
    rows gives zero groups, hence zero rows (as Oxigraph and Fuseki answer). Otherwise identical.
    """
    if part.name != "AggregateJoin" or part.p.expr is None:
        raise NotImplementedError
    if not isinstance(getattr(ctx.graph, "store", None), CypherTripleStore):
        raise NotImplementedError
    from rdflib.plugins.sparql.aggregates import Aggregator
    from rdflib.plugins.sparql.evaluate import evalPart
    from rdflib.plugins.sparql.evalutils import _eval

    groups: dict[Any, Aggregator] = {}
    for row in evalPart(ctx, part.p):
        key = tuple(_eval(e, row, False) for e in part.p.expr)
        if key not in groups:
            groups[key] = Aggregator(aggregations=part.A)
        groups[key].update(row)
    return (FrozenBindings(ctx, aggregator.get_bindings()) for aggregator in groups.values())


CUSTOM_EVALS["dlom_neo4j_grouped_aggregate"] = _evaluate_grouped_aggregate


class _Dataset(rdflib.Dataset):
    """rdflib's Dataset without the deprecation warnings its own SPARQL evaluator triggers (it still
    calls ``contexts()`` and ``default_context``, which rdflib 7 deprecated in favour of these)."""

    def contexts(self, triple: Any = None) -> Iterator[rdflib.Graph]:
        return self.graphs(triple)

    @property
    def default_context(self) -> rdflib.Graph:
        return self._default_context


# -- the Store ----------------------------------------------------------------------------------------


def _ox_from_rdflib(term: Any) -> Term | None:
    if term is None:
        return None
    if type(term) is str:  # rdflib hands back a bare str from some functions (e.g. COALESCE of "")
        return Literal(term)
    if isinstance(term, rdflib.URIRef):
        return NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return Literal(str(term), language=term.language)
        if term.datatype:
            return Literal(str(term), datatype=NamedNode(str(term.datatype)))
        return Literal(str(term))
    raise QueryError(f"unsupported result term {term!r}")


def _has_service(node: Any) -> bool:
    if isinstance(node, CompValue):
        if node.name == "ServiceGraphPattern":
            return True
        return any(_has_service(v) for v in node.values())
    if isinstance(node, list | tuple):
        return any(_has_service(v) for v in node)
    return False


@register_backend("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")
class Neo4jStore:
    """The :class:`kg.store.Store` protocol on a Neo4j 5 server (see the module docstring for the mapping)."""

    generation: int | None = None  # other clients write to the server too: nothing derived is kept

    def generation_of(self, vocabularies: Iterable[str]) -> int | None:
        return None

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if not parts.hostname:
            raise StoreURLError(f"a Neo4j store URL needs a host, e.g. neo4j://localhost:7687 (got {url!r})")
        options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(options) - {"database", "timeout"}
        if unknown:
            raise StoreURLError(f"unknown Neo4j store URL option(s) {sorted(unknown)} in {url!r}; known: database, timeout")
        user = unquote(parts.username) if parts.username else os.environ.get("DLOM_NEO4J_USER")
        password = unquote(parts.password) if parts.password else os.environ.get("DLOM_NEO4J_PASSWORD", "")
        port = f":{parts.port}" if parts.port else ""
        self.url = url
        self.database: str | None = options.get("database")
        try:
            self.timeout_s = float(options.get("timeout", _DEFAULT_TIMEOUT_S))
        except ValueError:
            raise StoreURLError(f"timeout must be a number of seconds in {url!r}") from None
        self._driver: Driver = GraphDatabase.driver(
            f"{parts.scheme}://{parts.hostname}{port}",
            auth=(user, password) if user else None,
            connection_timeout=min(self.timeout_s, 15.0),
        )
        try:
            self._driver.verify_connectivity()
            self._ensure_schema()
        except (ServiceUnavailable, OSError) as e:
            self._driver.close()
            raise StoreURLError(f"cannot reach Neo4j at {parts.hostname}{port}: {e}") from None
        except Neo4jError as e:
            self._driver.close()
            raise StoreURLError(f"Neo4j at {parts.hostname}{port} refused the connection: {e}") from None

    def _session(self):
        return self._driver.session(database=self.database)

    def _ensure_schema(self) -> None:
        with self._session() as session:
            session.run("CREATE CONSTRAINT dlom_resource_uri IF NOT EXISTS "
                        "FOR (n:Resource) REQUIRE n.uri IS UNIQUE").consume()

    # -- reads -----------------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        substitutions: Mapping[str, Term] | None = None,
        default_graph: Sequence[NamedNode] | None = None,
        named_graphs: Sequence[NamedNode] | None = None,
        timeout_s: float | None = None,
    ) -> QueryResult:
        parsed, (query_default, query_named) = _parse_query(bind(sparql, substitutions or {}))
        if default_graph is not None or named_graphs is not None:  # the protocol's dataset wins
            default_scope = None if default_graph is None else ([_graph_key(g) for g in default_graph] or [""])
            named_scope = None if named_graphs is None else [_graph_key(g) for g in named_graphs]
        else:
            default_scope, named_scope = query_default, query_named
        limit = timeout_s or self.timeout_s
        deadline = time.monotonic() + limit
        with self._session() as session:
            tx = session.begin_transaction(timeout=limit)
            try:
                rstore = CypherTripleStore(tx, default_scope, named_scope, deadline)
                dataset = _Dataset(store=rstore, default_union=True)
                return self._materialize(evalQuery(dataset, parsed), rstore)
            except ClientError as e:
                if "TimedOut" in (e.code or "") or "Terminated" in (e.code or ""):
                    raise QueryTimeoutError(f"query exceeded its {limit:g} s time limit") from None
                raise QueryError(f"query failed in Neo4j: {e.message}") from None
            except QueryError:
                raise
            except Neo4jError as e:
                raise QueryError(f"query failed in Neo4j: {e}") from None
            except Exception as e:  # noqa: BLE001 - rdflib raises bare Exceptions for unsupported forms
                raise QueryError(f"query failed: {e}") from None
            finally:
                tx.close()

    @staticmethod
    def _materialize(result: Any, rstore: CypherTripleStore) -> QueryResult:
        # Everything is read inside the transaction, so results are converted here, not lazily.
        kind = result["type_"]
        if kind == "ASK":
            return BooleanResult(bool(result["askAnswer"]))
        if kind in ("CONSTRUCT", "DESCRIBE"):
            triples = []
            for s, p, o in result["graph"]:
                rstore.check_deadline()
                triples.append(ox.Triple(_ox_from_rdflib(s), _ox_from_rdflib(p), _ox_from_rdflib(o)))
            return GraphResult(iter(triples))
        variables = [str(v) for v in result["vars_"]]
        keys = list(result["vars_"])
        rows = []
        for i, solution in enumerate(result["bindings"]):
            if i % 256 == 0:
                rstore.check_deadline()
            rows.append(tuple(_ox_from_rdflib(solution.get(k)) for k in keys))
        return Solutions(variables, iter(rows))

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        g = None if graph is None else _graph_key(graph)
        with self._session() as session:
            rels = session.run(
                "MATCH (s:Resource)-[r]->(o:Resource) WHERE $g IS NULL OR r.graph = $g "
                "RETURN s.uri AS s, type(r) AS p, o.uri AS o, r.graph AS g", g=g)
            for r in rels:
                yield stored_to_quad(r["s"], r["p"], r["o"], r["g"])
        with self._session() as session:
            lits = session.run(
                "MATCH (n:Resource) UNWIND [k IN keys(n) WHERE k CONTAINS ' ' "
                "AND ($g IS NULL OR last(split(k, ' ')) = $g)] AS k "
                "UNWIND n[k] AS v RETURN n.uri AS s, k, v", g=g)
            for r in lits:
                p, dtlang, kind, gk = _split_key(r["k"])
                yield stored_to_quad(r["s"], p, (dtlang, kind, r["v"]), gk)

    def count(self, graph: NamedNode | None = None) -> int:
        g = None if graph is None else _graph_key(graph)
        with self._session() as session:
            if g is None:
                rels = session.run("MATCH ()-[r]->() RETURN count(r) AS n").single()["n"]
            else:
                rels = session.run("MATCH ()-[r]->() WHERE r.graph = $g RETURN count(r) AS n", g=g).single()["n"]
            lits = session.run(
                "MATCH (n:Resource) UNWIND [k IN keys(n) WHERE k CONTAINS ' ' "
                "AND ($g IS NULL OR last(split(k, ' ')) = $g)] AS k RETURN sum(size(n[k])) AS n", g=g,
            ).single()["n"]
        return int(rels) + int(lits or 0)

    # -- writes (each one transaction) -----------------------------------------------------------

    def _write(self, work) -> None:
        try:
            with self._session() as session:
                session.execute_write(work)
        except Neo4jError as e:
            raise QueryError(f"write failed in Neo4j (nothing was written): {e}") from None

    def add(self, quads: Iterable[Quad]) -> None:
        stored = [quad_to_stored(q) for q in quads]
        if stored:
            self._write(lambda tx: write_quads(tx, stored))

    bulk_add = add  # one transaction either way; the server has no faster atomic path

    def load_nquads(self, data: bytes) -> None:
        self.add(parse_nquads(data))

    def replace(self, remove: Iterable[Quad], add: Iterable[Quad]) -> None:
        doomed = [quad_to_stored(q) for q in remove]
        fresh = [quad_to_stored(q) for q in add]

        def work(tx: ManagedTransaction) -> None:
            delete_quads(tx, doomed)
            write_quads(tx, fresh)

        self._write(work)

    def update(self, sparql: str) -> None:
        try:
            parsed = translateUpdate(parseUpdate(sparql))
        except Exception as e:
            raise QueryError(f"SPARQL update syntax error: {e}") from None
        if _has_service(list(parsed.algebra)):
            raise QueryError("SERVICE is not supported by the neo4j store")
        with self._session() as session:
            tx = session.begin_transaction(timeout=self.timeout_s)
            try:
                rstore = CypherTripleStore(tx, [""], None, time.monotonic() + self.timeout_s)
                evalUpdate(_Dataset(store=rstore, default_union=True), parsed)
                rstore.flush()
                tx.commit()
            except QueryError:
                raise
            except Neo4jError as e:
                raise QueryError(f"update failed in Neo4j (nothing was written): {e}") from None
            except Exception as e:  # rdflib raises plain Exceptions for e.g. LOAD failures
                raise QueryError(f"update failed (nothing was written): {e}") from None
            finally:
                tx.close()  # rolls back unless committed

    def clear(self) -> None:
        with self._session() as session:
            # Batched so a large graph does not need one huge transaction.
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()

    def close(self) -> None:
        self._driver.close()

    def __repr__(self) -> str:
        return f"Neo4jStore({self.url!r})"


@functools.lru_cache(maxsize=256)
def _parse_query(text: str) -> tuple[Any, tuple[list[GraphKey] | None, list[GraphKey] | None]]:
    """Parsed and translated query (rdflib's parser is slow, and templates repeat) and its FROM scopes.

    The cached algebra is only read by evaluation (plus our idempotent pushdown annotation).
    """
    try:
        parsed = translateQuery(parseQuery(text))
    except Exception as e:  # pyparsing raises several types; all mean "not valid SPARQL"
        raise QueryError(f"SPARQL syntax error: {e}") from None
    if _has_service(parsed.algebra):
        raise QueryError("SERVICE is not supported by the neo4j store")
    scopes = _dataset_scopes(parsed.algebra)
    parsed.algebra["datasetClause"] = None  # handled by the scopes, not by rdflib (which would fetch URLs)
    scope_values_variables(parsed.algebra)
    annotate_filter_pushdown(parsed.algebra)
    return parsed, scopes


def _dataset_scopes(algebra: CompValue) -> tuple[list[GraphKey] | None, list[GraphKey] | None]:
    """The default-graph and named-graph scopes a query's FROM / FROM NAMED clauses give."""
    clause = dict.get(algebra, "datasetClause")
    if not clause:
        return None, None
    froms = [str(d.default) for d in clause if dict.get(d, "default") is not None]
    named_from = [str(d.named) for d in clause if dict.get(d, "named") is not None]
    # With only FROM NAMED the default graph is empty; with only FROM there are no named graphs.
    return froms, named_from
