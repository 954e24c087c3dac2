"""rdflib's SPARQL 1.1 evaluator over Neo4j: an rdflib ``Store`` view of one Neo4j transaction
(:class:`CypherTripleStore`) and the custom evaluations that send each BGP to Neo4j as one Cypher query
(:func:`kg.stores.neo4j.cypher.compile_bgp`). The custom evaluations are installed in rdflib's
process-wide ``CUSTOM_EVALS`` only while a Neo4j evaluation runs (:func:`cypher_evaluation`)."""
from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import rdflib
from neo4j import Transaction
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.sparql import CUSTOM_EVALS
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import FrozenBindings, QueryContext

from kg.errors import QueryError, QueryTimeoutError
from kg.stores.neo4j.cypher import Catalog, CompiledBGP, NodeConst, PatternTerm, Var, compile_bgp
from kg.stores.neo4j.terms import (NATIVE_NUMERIC, XSD_STRING, GraphKey, NodeKey, StoredLiteral, StoredQuad,
                                   decode_lexical, encode_literal)
from kg.stores.neo4j.writes import delete_quads, write_quads

_PRUNE_KEY = "dlom_prune"  # algebra annotation: FILTER conjuncts a BGP may apply in Cypher

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
            if (isinstance(number, StoredLiteral) and number.kind == "n" and number.dtlang in NATIVE_NUMERIC
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


_CUSTOM_EVALUATIONS = {"dlom_neo4j_bgp": _evaluate_bgp_in_cypher,
                       "dlom_neo4j_grouped_aggregate": _evaluate_grouped_aggregate}
_evaluations_running = 0
_evaluations_lock = threading.Lock()


@contextmanager
def cypher_evaluation() -> Iterator[None]:
    """Install DLOM's custom evaluations in rdflib's ``CUSTOM_EVALS`` while a Neo4j evaluation runs,
    and remove them when the last concurrent one ends. ``CUSTOM_EVALS`` is process-wide and rdflib
    offers no per-query hook; the evaluations decline (NotImplementedError) every graph that is not a
    :class:`CypherTripleStore`, so another rdflib evaluation running meanwhile is unaffected."""
    global _evaluations_running
    with _evaluations_lock:
        if _evaluations_running == 0:
            CUSTOM_EVALS.update(_CUSTOM_EVALUATIONS)
        _evaluations_running += 1
    try:
        yield
    finally:
        with _evaluations_lock:
            _evaluations_running -= 1
            if _evaluations_running == 0:
                for name in _CUSTOM_EVALUATIONS:
                    CUSTOM_EVALS.pop(name, None)


class ViewDataset(rdflib.Dataset):
    """rdflib's Dataset without the deprecation warnings its own SPARQL evaluator triggers (it still
    calls ``contexts()`` and ``default_context``, which rdflib 7 deprecated in favour of these)."""

    def contexts(self, triple: Any = None) -> Iterator[rdflib.Graph]:
        return self.graphs(triple)

    @property
    def default_context(self) -> rdflib.Graph:
        return self._default_context
