"""The BGP → Cypher compiler: a whole basic graph pattern (with the numeric FILTERs it can carry) as
one Cypher query over the storage mapping of :mod:`kg.stores.neo4j.terms`."""
from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from neo4j import Transaction

from kg.stores.neo4j.terms import (NATIVE_NUMERIC, RDF_TYPE, GraphKey, NodeKey, StoredLiteral,
                                   quoted_identifier)

_MAX_BRANCHES = 16  # kind assignments of one BGP compiled into one UNION query before falling back
_CYPHER_OPS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "=": "=", "!=": "<>"}

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
            self.matches.append(f"MATCH {self.node(s, ':' + quoted_identifier(o.key))}")
            return
        rel_type = f":{quoted_identifier(p.key)}" if isinstance(p, NodeConst) else ""
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
                              f"{b.param(sorted(NATIVE_NUMERIC))}) OR {v} {_CYPHER_OPS[op]} {b.param(number)}")
        returns = ", ".join(f"{b.output(v)} AS {c}" for c, v in columns) or "1 AS c"
        branches.append("\n".join(b.matches + b.tail) + f"\nRETURN DISTINCT {returns}")
    return CompiledBGP("\nUNION\n".join(branches), params, columns)
