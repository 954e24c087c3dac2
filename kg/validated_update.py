"""A SPARQL 1.1 update, validated against the shapes and committed as one delta — the write path of
``/sparql/update`` and the Graph Store writes.

1. The update is parsed by Oxigraph (run on an empty in-memory store: a syntax error is a
   :class:`kg.errors.QueryError` naming the parser's message) and split into its operations.
2. The *delta* (quads removed, quads added) is computed without touching the store, in time that
   grows with the size of the update, not of the store:

   * ``INSERT DATA`` / ``DELETE DATA``: the operation's quads (read by Oxigraph itself), less those
     already present (insert) or absent (delete);
   * ``CLEAR`` / ``DROP`` (``GRAPH g``, ``DEFAULT``, ``NAMED``, ``ALL``) and ``CREATE``: the graphs' quads;
   * ``DELETE``/``INSERT … WHERE`` and ``DELETE WHERE``: the WHERE pattern is a SELECT on the store
     (with the operation's ``WITH`` / ``USING`` dataset), and the templates are instantiated with its
     solutions by Oxigraph (so blank nodes, unbound variables and ill-formed triples behave as SPARQL
     says), when it is the request's first operation with an effect.

   Anything else (``ADD``/``COPY``/``MOVE``, a WHERE operation after one that changed something, a
   solution binding a blank node) is evaluated exactly on a scratch copy of the store, which costs
   O(store size): fine on a test store, too slow on the shipped graph.
3. Triples inserted into the default graph are routed to their repository's named graph
   (:func:`kg.repositories.route`), as every DLOM write is; quads put in a named graph stay there.
4. Every subject the delta touches is validated with :func:`kg.writes.check_triples` on its *whole*
   description after the update, so removing a required value (``sh:minCount``) is caught as well as
   adding a bad one. Entities that merely point at a changed entity are not re-validated.
5. Only if valid, and only if ``may_commit()`` still agrees (a caller whose time limit passed says no),
   the delta is committed with ``Store.replace`` (one transaction).

In an update the default graph is the store's real default graph, which DLOM keeps empty: match existing
data with ``GRAPH ?g { … }``, ``WITH`` or ``USING``. Updates that delete blank-node quads are refused
(the store's atomic replace cannot name blank nodes).
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Quad, Triple

from kg.binding import values_rows
from kg.errors import QueryError
from kg.namespaces import RDF
from kg.repositories import route
from kg.sparql_tokens import positioned_tokens
from kg.store import Store, open_store
from kg.writes import check_triples, existing_types

_CHUNK = 400
_DEFAULT = DefaultGraph()


class UnsupportedUpdateError(QueryError):
    """A well-formed update that DLOM's validated write path cannot apply (nothing was written)."""


@dataclass(frozen=True)
class UpdateReport:
    inserted: int
    deleted: int
    committed: bool


_LOCKS: dict[int, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _update_lock(store: Store) -> threading.Lock:
    # One lock per store object: updates to one store are serialized, so each delta is computed
    # against the state it is applied to (other in-process writers are not covered by this lock).
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(id(store), threading.Lock())


def apply_validated_update(store: Store, sparql: str, may_commit: Callable[[], bool] | None = None) -> UpdateReport:
    """Validate the update ``sparql`` and commit its delta (see the module docstring).

    Raises QueryError (malformed or unsupported update) and ValidationError (SHACL); the store is
    unchanged unless the report says ``committed=True``. ``may_commit`` is asked once, just before the
    commit; False leaves the store unchanged (``committed=False``).
    """
    _check_syntax(sparql)
    with _update_lock(store):
        delta = _planned_delta(store, sparql)
        removed, added = delta if delta is not None else _scratch_delta(store, sparql)
        if any(isinstance(t, BlankNode) for q in removed for t in (q.subject, q.object)):
            raise UnsupportedUpdateError("updates that delete blank-node triples are not supported")
        added = _routed(store, added)
        added = [q for q in added if q not in _existing(store, added)]
        if not removed and not added:
            return UpdateReport(0, 0, True)
        changed = {q.subject for q in removed} | {q.subject for q in added}
        check_triples(store, _description_after(store, changed, removed, added), source="SPARQL update")
        if may_commit is not None and not may_commit():
            return UpdateReport(len(added), len(removed), False)
        store.replace(removed, added)
        return UpdateReport(len(added), len(removed), True)


# -- parsing ---------------------------------------------------------------------------------------

def _check_syntax(sparql: str) -> None:
    """Raise QueryError naming the parser's message if ``sparql`` is not a SPARQL update."""
    try:
        ox.Store().update(sparql)
    except SyntaxError as e:
        raise QueryError(f"SPARQL update syntax error: {e}") from None
    except (OSError, ValueError, RuntimeError):
        pass  # evaluation on an empty store (e.g. DROP of a graph it lacks) is not the question here


def _quads_inserted(sparql: str) -> list[Quad]:
    """The quads the update ``sparql`` leaves in an empty in-memory store: how an operation's data, or
    a template instantiated with solutions, is read exactly as Oxigraph reads it."""
    scratch = ox.Store()
    try:
        scratch.update(sparql)
    except SyntaxError as e:
        raise QueryError(f"SPARQL update syntax error: {e}") from None
    except (OSError, ValueError, RuntimeError) as e:
        raise QueryError(f"update failed: {e}") from None
    return list(scratch)


@dataclass(frozen=True)
class _Operation:
    prologue: str  # every PREFIX/BASE declaration before the operation
    text: str
    tokens: list[tuple[str, str, int]]  # positioned in ``text``

    def words(self, n: int) -> list[str]:
        return [v.upper() if k == "word" else v for k, v, _ in self.tokens[:n]]


def _operations(sparql: str) -> list[_Operation]:
    """The update's operations, split at the ``;`` between them, each with the prologue in force."""
    tokens = positioned_tokens(sparql)
    out: list[_Operation] = []
    prologue: list[str] = []
    depth, start, i = 0, None, 0
    while i < len(tokens):
        kind, value, offset = tokens[i]
        if depth == 0 and start is None and kind == "word" and value.upper() in ("PREFIX", "BASE"):
            width = 3 if value.upper() == "PREFIX" else 2
            end = tokens[i + width - 1] if i + width - 1 < len(tokens) else tokens[-1]
            prologue.append(sparql[offset:end[2] + len(end[1])])
            i += width
            continue
        if kind == "other" and value in "{}":
            depth += 1 if value == "{" else -1
        if depth == 0 and kind == "other" and value == ";":
            if start is not None:
                out.append(_operation("\n".join(prologue), sparql[start:offset]))
            start = None
        elif start is None:
            start = offset
        i += 1
    if start is not None:
        out.append(_operation("\n".join(prologue), sparql[start:]))
    return out


def _operation(prologue: str, text: str) -> _Operation:
    return _Operation(prologue, text, positioned_tokens(text))


def _group(op: _Operation, i: int) -> tuple[str, int]:
    """The ``{ … }`` group whose opening brace is token ``i``: its text and the index after it."""
    depth = 0
    for j in range(i, len(op.tokens)):
        value = op.tokens[j][1]
        if op.tokens[j][0] == "other" and value in "{}":
            depth += 1 if value == "{" else -1
            if depth == 0:
                start, end = op.tokens[i][2], op.tokens[j][2] + 1
                return op.text[start:end], j + 1
    raise QueryError("unbalanced braces in the update")


# -- the delta -------------------------------------------------------------------------------------

class _Delta:
    """Quads removed from and added to the store, as the operations so far leave it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.removed: dict[Quad, None] = {}
        self.added: dict[Quad, None] = {}

    def insert(self, quads: Iterable[Quad]) -> None:
        quads = list(quads)
        present = _existing(self.store, quads)
        for q in quads:
            if q in self.removed:
                del self.removed[q]
            elif q not in present:
                self.added[q] = None

    def delete(self, quads: Iterable[Quad]) -> None:
        quads = list(quads)
        present = _existing(self.store, quads)
        for q in quads:
            if q in self.added:
                del self.added[q]
            elif q in present:
                self.removed[q] = None

    def graph_quads(self, which: str, graph: NamedNode | None = None) -> list[Quad]:
        """The quads, as the delta leaves them, of one named graph, the default graph, every named
        graph or everything (``which``: GRAPH, DEFAULT, NAMED, ALL)."""
        if which == "GRAPH":
            stored = list(self.store.quads(graph))
        elif which == "DEFAULT":
            stored = _default_graph_quads(self.store)
        else:
            stored = [q for q in self.store.quads() if which == "ALL" or not isinstance(q.graph_name, DefaultGraph)]

        def wanted(q: Quad) -> bool:
            g = q.graph_name
            return {"GRAPH": g == graph, "DEFAULT": isinstance(g, DefaultGraph),
                    "NAMED": not isinstance(g, DefaultGraph), "ALL": True}[which]
        return [q for q in stored if q not in self.removed] + [q for q in self.added if wanted(q)]

    @property
    def empty(self) -> bool:
        return not self.removed and not self.added


def _planned_delta(store: Store, sparql: str) -> tuple[list[Quad], list[Quad]] | None:
    """The update's delta computed operation by operation (module docstring, step 2), or None where an
    operation needs the exact evaluation on a scratch copy."""
    delta = _Delta(store)
    for op in _operations(sparql):
        first = op.words(4)
        head, rest = first[0], first[1:]
        silent = rest[:1] == ["SILENT"]
        target = rest[1:] if silent else rest
        if head in ("INSERT", "DELETE") and target[:1] == ["DATA"]:
            block, _ = _group(op, 2)
            quads = _quads_inserted(f"{op.prologue}\nINSERT DATA {block}")
            (delta.insert if head == "INSERT" else delta.delete)(quads)
        elif head in ("CLEAR", "DROP"):
            scope = target[0] if target else ""
            graph = _resolved(op, [op.tokens[(3 if silent else 2)][1]])[0] if scope == "GRAPH" else None
            if scope not in ("GRAPH", "DEFAULT", "NAMED", "ALL"):
                return None
            quads = delta.graph_quads(scope, graph)
            if scope == "GRAPH" and not quads and not silent:
                raise QueryError(f"update failed: the graph {graph} does not exist")
            delta.delete(quads)
        elif head == "CREATE":
            graph = _resolved(op, [op.tokens[(3 if silent else 2)][1]])[0]
            if delta.graph_quads("GRAPH", graph) and not silent:
                raise QueryError(f"update failed: the graph {graph} already exists")
        elif head in ("INSERT", "DELETE", "WITH"):
            if not delta.empty:
                return None
            changes = _modify(store, op)
            if changes is None:
                return None
            delta.delete(changes[0])
            delta.insert(changes[1])
        else:
            return None
    return list(delta.removed), list(delta.added)


def _modify(store: Store, op: _Operation) -> tuple[list[Quad], list[Quad]] | None:
    """The quads a ``DELETE``/``INSERT … WHERE`` (or ``DELETE WHERE``) operation would remove and add,
    or None if a solution binds a blank node (which no template text could name)."""
    i, with_graph = 0, None
    words = op.words(len(op.tokens))
    if words[0] == "WITH":
        with_graph, i = op.tokens[1][1], 2
    templates: dict[str, str] = {}
    if words[i:i + 2] == ["DELETE", "WHERE"]:
        pattern, _ = _group(op, i + 2)
        templates["DELETE"] = pattern
        using: list[str] = []
        using_named: list[str] = []
    else:
        for keyword in ("DELETE", "INSERT"):
            if i < len(words) and words[i] == keyword:
                templates[keyword], i = _group(op, i + 1)
        using, using_named = [], []
        while i < len(words) and words[i] == "USING":
            if words[i + 1] == "NAMED":
                using_named.append(op.tokens[i + 2][1])
                i += 3
            else:
                using.append(op.tokens[i + 1][1])
                i += 2
        if i >= len(words) or words[i] != "WHERE":
            return None
        pattern, _ = _group(op, i + 1)
    default_graph: list[NamedNode] | None
    named_graphs: list[NamedNode] | None = None
    if using or using_named:
        resolved = _resolved(op, using + using_named)
        default_graph, named_graphs = resolved[:len(using)], resolved[len(using):]
    elif with_graph is not None:
        default_graph = _resolved(op, [with_graph])
    else:
        default_graph = []  # the store's real default graph
    result = store.select(f"{op.prologue}\nSELECT * WHERE {pattern}", default_graph=default_graph,
                          named_graphs=named_graphs)
    variables, rows = result.variables, list(result.rows)
    if any(isinstance(t, (BlankNode, Triple)) for row in rows for t in row):
        return None
    with_clause = f"WITH {with_graph}\n" if with_graph is not None else ""
    out: list[list[Quad]] = []
    for keyword in ("DELETE", "INSERT"):
        quads: list[Quad] = []
        if keyword in templates:
            for k in range(0, len(rows), _CHUNK):
                solutions = values_rows(variables, rows[k:k + _CHUNK]) if variables else "VALUES () { () }"
                quads += _quads_inserted(f"{op.prologue}\n{with_clause}INSERT {templates[keyword]} WHERE {{ {solutions} }}")
        out.append(quads)
    return out[0], out[1]


def _resolved(op: _Operation, iris: Sequence[str]) -> list[NamedNode]:
    """IRIs written as in the operation (``<rel>``, ``ex:name``) resolved against its prologue."""
    if not iris:
        return []
    names = [f"?g{k}" for k in range(len(iris))]
    result = ox.Store().query(f"{op.prologue}\nSELECT * WHERE {{ VALUES ({' '.join(names)}) {{ ({' '.join(iris)}) }} }}")
    row = list(result)[0]
    return [row[n[1:]] for n in names]


def _scratch_delta(store: Store, sparql: str) -> tuple[list[Quad], list[Quad]]:
    """The exact delta: the update evaluated on a scratch copy of the whole store (O(store size))."""
    before = list(store.quads())
    scratch = open_store("oxigraph://")
    try:
        scratch.add(before)
        scratch.update(sparql)
        after = set(scratch.quads())
    finally:
        scratch.close()
    before_set = set(before)
    return [q for q in before if q not in after], [q for q in after if q not in before_set]


# -- store lookups ---------------------------------------------------------------------------------

def _existing(store: Store, quads: Sequence[Quad]) -> set[Quad]:
    """Those of ``quads`` the store holds (a quad with a blank node is never looked up: a blank node in
    an update's text is a new one)."""
    named = [q for q in quads if not isinstance(q.graph_name, DefaultGraph) and not _has_blank(q)]
    default = [q for q in quads if isinstance(q.graph_name, DefaultGraph) and not _has_blank(q)]
    found: set[Quad] = set()
    for k in range(0, len(named), _CHUNK):
        rows = [(q.subject, q.predicate, q.object, q.graph_name) for q in named[k:k + _CHUNK]]
        result = store.select(f"SELECT ?s ?p ?o ?g WHERE {{ {values_rows(['s', 'p', 'o', 'g'], rows)} GRAPH ?g {{ ?s ?p ?o }} }}")
        found.update(Quad(*row) for row in result.rows)
    for k in range(0, len(default), _CHUNK):
        rows = [(q.subject, q.predicate, q.object) for q in default[k:k + _CHUNK]]
        result = store.select(f"SELECT ?s ?p ?o WHERE {{ {values_rows(['s', 'p', 'o'], rows)} ?s ?p ?o }}", default_graph=[])
        found.update(Quad(*row, _DEFAULT) for row in result.rows)
    return found


def _has_blank(q: Quad) -> bool:
    return any(isinstance(t, BlankNode) for t in (q.subject, q.object, q.graph_name))


def _default_graph_quads(store: Store) -> list[Quad]:
    result = store.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", default_graph=[])
    return [Quad(s, p, o, _DEFAULT) for s, p, o in result.rows]


def _routed(store: Store, added: list[Quad]) -> list[Quad]:
    """Default-graph quads moved to their subject's repository graph (types from the delta, else the store)."""
    in_default = [Triple(q.subject, q.predicate, q.object) for q in added if isinstance(q.graph_name, DefaultGraph)]
    if not in_default:
        return added
    typed = {q.subject for q in added if q.predicate == RDF.type}
    untyped = sorted({t.subject.value for t in in_default if isinstance(t.subject, NamedNode) and t.subject not in typed})
    known = {iri: sorted(types) for iri, types in existing_types(store, untyped).items()}
    types: dict[str, list[str]] = dict(known)
    for q in added:
        if q.predicate == RDF.type and isinstance(q.object, NamedNode):
            key = q.subject.value if isinstance(q.subject, NamedNode) else str(q.subject)
            types.setdefault(key, []).append(q.object.value)
    return [q for q in added if not isinstance(q.graph_name, DefaultGraph)] + route(in_default, known_types=types)


def _description_after(store: Store, subjects: set, removed: list[Quad], added: list[Quad]) -> list[Triple]:
    """Every triple about ``subjects`` once the delta is applied."""
    iris = sorted((s for s in subjects if isinstance(s, NamedNode)), key=lambda s: s.value)
    current: set[Quad] = set()
    for k in range(0, len(iris), _CHUNK):
        rows = [(s,) for s in iris[k:k + _CHUNK]]
        result = store.select(f"SELECT ?s ?p ?o ?g WHERE {{ {values_rows(['s'], rows)} GRAPH ?g {{ ?s ?p ?o }} }}")
        current.update(Quad(*row) for row in result.rows)
        result = store.select(f"SELECT ?s ?p ?o WHERE {{ {values_rows(['s'], rows)} ?s ?p ?o }}", default_graph=[])
        current.update(Quad(*row, _DEFAULT) for row in result.rows)
    after = (current - set(removed)) | {q for q in added if q.subject in subjects}
    return list(dict.fromkeys(Triple(q.subject, q.predicate, q.object) for q in after))
