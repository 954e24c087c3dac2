"""The Neo4j :class:`kg.store.Store` (see :mod:`kg.stores.neo4j` for the mapping and how SPARQL runs)."""
from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyoxigraph as ox
import rdflib
from neo4j import Driver, GraphDatabase, ManagedTransaction
from neo4j.exceptions import Neo4jError, ServiceUnavailable
from pyoxigraph import BlankNode, Literal, NamedNode, Quad
from rdflib.plugins.sparql.evaluate import evalQuery
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
from rdflib.plugins.sparql.update import evalUpdate

from kg.binding import bind
from kg.errors import QueryError, QueryTimeoutError, StoreURLError
from kg.results import BooleanResult, GraphResult, QueryResult, Solutions
from kg.store import Queries, register_backend, run_check_first
from kg.stores.neo4j.rdflib_view import (CypherTripleStore, ViewDataset, annotate_filter_pushdown,
                                         cypher_evaluation, scope_values_variables)
from kg.stores.neo4j.terms import GraphKey, graph_key, quad_to_stored, split_property_key, stored_to_quad
from kg.stores.neo4j.writes import delete_quads, write_quads
from kg.stores.nquads import parse_nquads
from kg.terms import Term

_DEFAULT_TIMEOUT_S = 60.0

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
class Neo4jStore(Queries):
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
            default_scope = None if default_graph is None else ([graph_key(g) for g in default_graph] or [""])
            named_scope = None if named_graphs is None else [graph_key(g) for g in named_graphs]
        else:
            default_scope, named_scope = query_default, query_named
        limit = timeout_s or self.timeout_s
        deadline = time.monotonic() + limit
        with self._session() as session:
            tx = session.begin_transaction(timeout=limit)
            try:
                rstore = CypherTripleStore(tx, default_scope, named_scope, deadline)
                dataset = ViewDataset(store=rstore, default_union=True)
                with cypher_evaluation():  # rdflib evaluates lazily: materializing is evaluating
                    return self._materialize(evalQuery(dataset, parsed), rstore)
            except QueryError:
                raise
            except Neo4jError as e:
                # The server's own time limit stops the transaction with a client error
                # (…Transaction.TransactionTimedOut…) or a transient one (…Transaction.Terminated,
                # …LockClientStopped while it waited for a lock): each is this query's timeout.
                if any(word in (e.code or "") for word in ("TimedOut", "Terminated", "LockClientStopped")):
                    raise QueryTimeoutError(f"query exceeded its {limit:g} s time limit") from None
                raise QueryError(f"query failed in Neo4j: {e.message or e}") from None
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
        g = None if graph is None else graph_key(graph)
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
                p, dtlang, kind, gk = split_property_key(r["k"])
                yield stored_to_quad(r["s"], p, (dtlang, kind, r["v"]), gk)

    def count(self, graph: NamedNode | None = None) -> int:
        g = None if graph is None else graph_key(graph)
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

    bulk_add = run_check_first(add)

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
                with cypher_evaluation():
                    evalUpdate(ViewDataset(store=rstore, default_union=True), parsed)
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
