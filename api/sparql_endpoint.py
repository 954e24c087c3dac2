"""The SPARQL 1.1 endpoint: /sparql (query) and /sparql/update (update), per the SPARQL 1.1 Protocol.

Queries
    GET ``/sparql?query=…``, POST form ``query=…``, or POST ``application/sparql-query`` (graph
    parameters then in the URL). ``default-graph-uri`` / ``named-graph-uri`` set the dataset; when
    neither is given the default graph is the union of all named graphs and every named graph is
    available to ``GRAPH``. When either is given, the two lists together are the whole dataset (a
    missing list is empty), as the protocol says. GET ``/sparql`` without a query answers the SPARQL
    service description (Turtle by default).

Results
    chosen by the ``Accept`` header (q-values honoured, see :mod:`api.results_formats`): SPARQL JSON
    (default), XML, CSV, TSV for SELECT; JSON or XML for ASK; Turtle (default), N-Triples, JSON-LD or
    RDF/XML for CONSTRUCT/DESCRIBE. Nothing acceptable: 406.

Limits
    * Time: at most ``Settings.query_workers`` queries are evaluated at once, and each answers within
      ``Settings.query_timeout_s`` (time waiting for a worker counts); past it, 503 with
      ``Retry-After``. On the embedded on-disk store the *work* stops too: queries run in worker
      processes over read-only checkpoints of the store, and one past its deadline is killed
      (:mod:`kg.query_pool`; measured cost 0.24 ms per query, ``benchmarks/api_sparql.py``). Other
      stores evaluate in threads, which pyoxigraph cannot interrupt: there the store stops a query at
      the deadline while it streams rows (every 256 rows), but one that does all its work before its
      first row keeps a thread busy until it ends (the in-memory store is for tests; remote stores
      have their own limits). Before any evaluation, :func:`refuse_cross_products` refuses the one
      shape that is certain to be unbounded (open patterns ``?s ?p ?o`` that share no variable) with
      a 400 naming the cause. Per-client limits: :mod:`api.admission`.
    * Rows: at most ``Settings.max_rows`` solutions (or triples). A result cut there says so: response
      header ``DLOM-Results-Truncated: true`` (and ``DLOM-Max-Rows``), plus, in the body where the
      format allows, the link :data:`api.results_formats.TRUNCATED_LINK` (JSON ``head.link``, XML
      ``<link>``, a Turtle/N-Triples comment). Never a silent cut.
    * Size: a request body (or query text) over ``Settings.max_body_bytes`` gets 413.

Errors
    A syntax error is a 400 whose JSON names the parser's message, ``line`` and ``column``. Wrong
    content type: 415. ``SERVICE`` and ``LOAD`` are refused with 403 unless the IRI starts with an entry
    of ``Settings.federation_allowlist``; pyoxigraph *does* fetch both (checked: it opens the TCP
    connection; FROM, FROM NAMED, USING and graph management only name local graphs and fetch nothing),
    so the endpoint must stop them first. Detection parses rather than greps: a SPARQL tokenizer
    (strings, comments, IRIs and prefixed names delimited as the grammar delimits them) finds whether
    the keywords occur at all; only then are the targets read, twice: from rdflib's SPARQL algebra
    (every ServiceGraphPattern and Load node, prefixes resolved) and from the token stream
    (``SERVICE SILENT? VarOrIri``, ``LOAD SILENT? iri``, PREFIX and BASE resolved), which also covers
    requests rdflib's grammar rejects (e.g. ``SERVICE pfx:name``). Every target either finds must be
    allowlisted; ``SERVICE ?var`` or an unresolvable target is always refused.

Updates (/sparql/update)
    Off unless ``Settings.update_token`` is set (403 otherwise); then ``Authorization: Bearer <token>``
    is required: 401 when missing or malformed, 403 when wrong (:mod:`api.auth`, the check every
    writing route shares). An update is validated like every
    write, without letting an invalid one touch the store: :mod:`kg.validated_update` computes the
    update's delta (in time that grows with the update, not the store, for the usual forms), validates
    every entity it touches on its whole description after the update, and commits it in one
    transaction. If the client's time limit passes before the commit starts, nothing is committed (a
    commit already started is waited for and reported).

    Answers: 200 ``{"inserted": n, "deleted": m}`` (quads); 422 with the SHACL violations (nothing
    written); 400 for a malformed update; 503 past the time limit (nothing written).

    In an update the default graph is the store's real default graph, which DLOM keeps empty: match
    existing data with ``GRAPH ?g { … }``, ``WITH`` or ``USING``.
"""
from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from urllib.parse import parse_qs, urljoin

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pyoxigraph import BlankNode, NamedNode, Triple
from starlette.types import ASGIApp, Receive, Scope, Send

from api import results_formats as rf
from api.auth import needs_update_token
from api.settings import Settings
from api.build_info import provenance_triples
from kg.errors import QueryError, QueryTimeoutError, ValidationError
from kg.namespaces import RDF
from kg.repositories import Repository
from kg.results import BooleanResult, GraphResult, Solutions
from kg.sparql_tokens import missing_prefix_help, positioned_tokens
from kg.query_pool import QueryPool
from kg.store import Store
from kg.stores.oxigraph import OxigraphStore
from kg.validated_update import UpdateReport, apply_validated_update

router = APIRouter(tags=["SPARQL"])

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
TRUNCATED_HEADER = "DLOM-Results-Truncated"


# -- errors ----------------------------------------------------------------------------------------


class ProtocolError(Exception):
    """A request the endpoint refuses: becomes a JSON ``{"detail": message, ...}`` with ``status``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> JSONResponse:
        return JSONResponse({"detail": self.message, **self.extra}, status_code=self.status, headers=self.headers)


_POSITION = re.compile(r"error at (\d+):(\d+)")
_PREFIX_NOT_FOUND = "Prefix not found"  # how pyoxigraph's parser says a prefixed name's prefix is undeclared


def query_error(e: QueryError | str, text: str | None = None) -> ProtocolError:
    """A store error as a 400; syntax errors carry the parser's line and column, in the client's text
    (the endpoint's ``BASE`` line, see :func:`with_base`, is not counted).

    Given the request's ``text``, a prefix the parser did not find is named
    (:func:`kg.sparql_tokens.missing_prefix_help`): the message says which prefix is undeclared and the
    PREFIX line to add; ``missing_prefixes`` lists ``{prefix, iri, declaration}``."""
    message = str(e)
    extra: dict[str, object] = {}
    help_ = missing_prefix_help(text) if text is not None and _PREFIX_NOT_FOUND in message else None
    if help_ is not None:
        position = _POSITION.search(message)
        message = f"SPARQL syntax error: {help_[0]}" + (f" ({position.group(0)})" if position else "")
        extra["missing_prefixes"] = help_[1]
    match = _POSITION.search(message)
    if match:
        line, column = max(1, int(match.group(1)) - 1), int(match.group(2))
        message = message[: match.start()] + f"error at {line}:{column}" + message[match.end():]
        return ProtocolError(400, message, line=line, column=column, **extra)
    return ProtocolError(400, message, **extra)


def with_base(text: str, base: str) -> str:
    """``text`` with the protocol's base IRI: relative IRIs in a query or update resolve against the
    URL it was sent to (RFC 3986 §5.1.3, the retrieval URI), as if the client had written ``BASE``.

    A line of its own before the client's text: a ``BASE`` the client wrote comes later and wins (a
    relative one resolves against this one), and the client's line numbers move by exactly one, which
    :func:`query_error` takes back."""
    return f"BASE <{base}>\n{text}"


def endpoint_url(request: Request) -> str:
    """The URL a request was sent to, without its query string: the base IRI of its text."""
    return str(request.url.replace(query="", fragment=""))


# -- SERVICE / LOAD guard --------------------------------------------------------------------------

# The token stream (kg.sparql_tokens) sees keywords exactly where the parser would see them.
def _tokens(text: str) -> list[tuple[str, str]]:
    return [(kind, value) for kind, value, _ in positioned_tokens(text)]




def _mentions_remote_access(text: str) -> bool:
    """Whether SERVICE or LOAD occurs as a keyword token (not inside a string, IRI, comment or name)."""
    # Fast path for the common request that has neither word anywhere: str.upper() maps character by
    # character, so a token whose upper() is SERVICE or LOAD leaves that word in text.upper(). Only
    # when the word occurs somewhere is the text tokenized to see whether it is a keyword.
    upper = text.upper()
    if "SERVICE" not in upper and "LOAD" not in upper:
        return False
    return any(kind == "word" and value.upper() in ("SERVICE", "LOAD") for kind, value in _tokens(text))


def _lexical_targets(text: str) -> list[str | None]:
    """SERVICE/LOAD targets read from the token stream (``SERVICE SILENT? VarOrIri``, ``LOAD SILENT?
    iri``), prefixes and BASE resolved; None where the target is a variable or cannot be resolved.
    Used where rdflib's grammar falls short (it rejects ``SERVICE prefix:name``)."""
    tokens = _tokens(text)
    prefixes: dict[str, str] = {}
    base: str | None = None
    found: list[str | None] = []

    def resolve(kind: str, value: str) -> str | None:
        if kind == "iri":
            return urljoin(base, value[1:-1]) if base else value[1:-1]
        if kind == "pname":
            prefix, _, local = value.partition(":")
            return prefixes[prefix] + local if prefix in prefixes else None
        return None

    for i, (kind, value) in enumerate(tokens):
        word = value.upper() if kind == "word" else ""
        following = tokens[i + 1 : i + 3]
        if word == "PREFIX" and len(following) == 2 and following[0][0] == "pname" and following[1][0] == "iri":
            resolved = resolve(*following[1])
            if resolved is not None:
                prefixes[following[0][1][:-1]] = resolved
        elif word == "BASE" and following and following[0][0] == "iri":
            base = resolve(*following[0])
        elif word in ("SERVICE", "LOAD"):
            j = i + 1
            if j < len(tokens) and tokens[j][0] == "word" and tokens[j][1].upper() == "SILENT":
                j += 1
            found.append(resolve(*tokens[j]) if j < len(tokens) else None)
    return found


def _rdflib_targets(text: str, is_update: bool) -> list[str | None] | None:
    """The IRIs of every SERVICE and LOAD node in rdflib's algebra of the request (prefixes resolved;
    None for ``SERVICE ?var``), or None if rdflib cannot parse the request."""
    from rdflib import URIRef
    from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        algebra = translateUpdate(parseUpdate(text)).algebra if is_update else translateQuery(parseQuery(text)).algebra
    except Exception:  # rdflib raises pyparsing and assorted errors; the token reading covers these
        return None
    found: list[str | None] = []

    def walk(node: object, depth: int = 0) -> None:
        if depth > 500:
            raise ProtocolError(400, "the request is nested too deeply to check")
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                term = node.get("term")
                found.append(str(term) if isinstance(term, URIRef) else None)
            elif node.name == "Load":
                iri = node.get("iri")
                found.append(str(iri) if isinstance(iri, URIRef) else None)
            for value in node.values():
                walk(value, depth + 1)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value, depth + 1)
        elif isinstance(node, list | tuple) or type(node).__name__ == "ParseResults":
            for value in node:  # type: ignore[union-attr]
                walk(value, depth + 1)

    walk(algebra)
    return found


def refuse_remote_access(text: str, is_update: bool, allowlist: Sequence[str]) -> None:
    """Raise a 403 ProtocolError if the request would make the server fetch an address the
    allowlist does not cover (``SERVICE <iri>``, ``SERVICE ?var``, ``LOAD <iri>``).

    Targets are the union of what rdflib's algebra finds and what the token reading finds, so either
    one seeing a target is enough to check it; an unresolvable target is refused."""
    if not _mentions_remote_access(text):
        return
    targets = (_rdflib_targets(text, is_update) or []) + _lexical_targets(text)
    for target in targets:
        if target is None:
            raise ProtocolError(403, "SERVICE with a variable (or unresolvable) endpoint is refused: the "
                                     "endpoint never fetches addresses chosen at query time")
        if not any(target.startswith(prefix) for prefix in allowlist):
            raise ProtocolError(403, f"SERVICE/LOAD of <{target}> is refused: the endpoint does not fetch "
                                     "remote addresses unless they are in DLOM_FEDERATION_ALLOWLIST")


# -- cross-product guard ---------------------------------------------------------------------------

# Two triple patterns of three variables each: the only shape the guard below looks at; a query
# without it (nearly all) costs one regex search.
_TWO_OPEN_PATTERNS = re.compile(r"[?$]\w+\s+[?$]\w+\s+[?$]\w+\s*(?:\.|\})[\s\S]*?[?$]\w+\s+[?$]\w+\s+[?$]\w+")


_GROUP_KEYWORDS = {"FILTER", "BIND", "OPTIONAL", "MINUS", "GRAPH", "VALUES", "SERVICE", "UNION"}


def refuse_cross_products(text: str) -> None:
    """Raise a 400 ProtocolError if a group of the query joins *open* triple patterns (``?s ?p ?o``:
    every quad of the store) that nothing connects: their product is the store's size to the power
    of their number (``?a ?b ?c . ?d ?e ?f . ?g ?h ?i`` over the shipped graph: 3×10^12 rows), work
    no deadline should have to stop.

    Within one group (at one brace level), open patterns are connected when they share a variable,
    directly or through another triple pattern of the group; a FILTER, BIND or nested group does not
    connect them (it does not bound the product). A CONSTRUCT template is not a pattern. This is a
    refusal of one well-defined shape, not a cost model: other expensive queries are stopped at the
    deadline (:mod:`kg.query_pool`)."""
    if not _TWO_OPEN_PATTERNS.search(text):
        return
    groups: list[list[list[tuple[str, str]]]] = []  # per open group: its statements (token lists)
    stack: list[list[list[tuple[str, str]]] | None] = []
    previous = ""
    for kind, value in _tokens(text):
        if kind == "other" and value == "{":
            template = previous == "CONSTRUCT"
            stack.append(None if template else [[]])
            previous = "{"
            continue
        if kind == "other" and value == "}":
            if stack:
                finished = stack.pop()
                if finished is not None:
                    groups.append(finished)
            if stack and stack[-1] is not None:
                stack[-1].append([("group", "")])  # a nested group ends the statement it was part of
                stack[-1].append([])
            previous = "}"
            continue
        previous = value.upper() if kind == "word" else value
        if not stack or stack[-1] is None:
            continue
        if kind == "other" and value == ".":
            stack[-1].append([])
        elif kind == "word" and previous in _GROUP_KEYWORDS:  # FILTER … after a pattern without a "."
            stack[-1].append([(kind, value)])
        else:
            stack[-1][-1].append((kind, value))
    for statements in groups:
        _refuse_unconnected(statements)


def _refuse_unconnected(statements: list[list[tuple[str, str]]]) -> None:
    open_patterns = [s for s in statements if len(s) == 3 and all(kind == "var" for kind, _ in s)]
    if len(open_patterns) < 2:
        return
    # Union-find over variables: each triple pattern (a statement of terms only) joins its variables.
    parent: dict[str, str] = {}

    def find(v: str) -> str:
        while parent.setdefault(v, v) != v:
            v = parent[v]
        return v

    for statement in statements:
        if not statement or any(kind in ("word", "group") for kind, _ in statement):
            continue  # FILTER, BIND, OPTIONAL, GRAPH, VALUES …: not a triple pattern
        variables = [value[1:] for kind, value in statement if kind == "var"]
        for v in variables[1:]:
            parent[find(v)] = find(variables[0])
    components: dict[str, list[str]] = {}
    for pattern in open_patterns:
        components.setdefault(find(pattern[0][1][1:]), []).append(" ".join(value for _, value in pattern))
    if len(components) > 1:
        shown = " and ".join("{ " + parts[0] + " }" for parts in list(components.values())[:3])
        raise ProtocolError(400, f"the query joins triple patterns that share no variable — {shown} — a cross "
                                 "product of the whole store with itself; connect them with a shared variable "
                                 "or a constant, or send them as separate queries", cause="cross product")


# -- request parsing -------------------------------------------------------------------------------


@dataclass
class Dataset:
    """The protocol's dataset parameters; ``None`` lists: not given (the store's default dataset)."""

    default_graphs: list[NamedNode] | None = None
    named_graphs: list[NamedNode] | None = None


def _iris(values: list[str], name: str) -> list[NamedNode]:
    out = []
    for value in values:
        try:
            out.append(NamedNode(value))
        except ValueError as e:
            raise ProtocolError(400, f"{name}: {value!r} is not an absolute IRI ({e})") from None
    return out


_OTHER_OPERATIONS = {"LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY"}


def with_using_graphs(text: str, using: Sequence[NamedNode], using_named: Sequence[NamedNode]) -> str:
    """The protocol's ``using-graph-uri`` / ``using-named-graph-uri`` (SPARQL 1.1 Protocol §2.2.3) as
    ``USING`` / ``USING NAMED`` clauses before the ``WHERE`` of every ``DELETE``/``INSERT … WHERE``
    operation of the update: they set the dataset its WHERE clause matches against.

    Found with the token stream (so a ``WHERE`` in a string, IRI or comment is never taken for one),
    at brace depth 0 of each operation. Refused with 400: an update with ``USING`` or ``WITH`` of its
    own (the protocol forbids combining them with the parameters), and the ``DELETE WHERE`` shorthand,
    which has no place for ``USING``."""
    if not using and not using_named:
        return text
    clauses = "".join(f" USING <{g.value}>" for g in using) + "".join(f" USING NAMED <{g.value}>" for g in using_named)
    tokens = positioned_tokens(text)
    inserts: list[int] = []
    depth = 0
    operation: str | None = None  # "modify", "data" or "other" once the current operation's keyword is seen
    for i, (kind, value, offset) in enumerate(tokens):
        if kind == "other":
            depth += {"{": 1, "}": -1}.get(value, 0)
            if value == ";" and depth == 0:
                operation = None
            continue
        if kind != "word" or depth != 0:
            continue
        word = value.upper()
        following = tokens[i + 1][1].upper() if i + 1 < len(tokens) and tokens[i + 1][0] == "word" else ""
        if word in ("USING", "WITH"):
            raise ProtocolError(400, f"the update has a {word} clause and the request using-graph-uri / "
                                     "using-named-graph-uri parameters: use one or the other (SPARQL 1.1 Protocol)")
        if operation is None and word in ("DELETE", "INSERT"):
            if word == "DELETE" and following == "WHERE":
                raise ProtocolError(400, "using-graph-uri / using-named-graph-uri cannot apply to the DELETE WHERE "
                                         "shorthand; write DELETE { … } WHERE { … }")
            operation = "data" if following == "DATA" else "modify"
        elif operation is None and word in _OTHER_OPERATIONS:
            operation = "other"
        elif operation == "modify" and word == "WHERE":
            inserts.append(offset)
    for offset in reversed(inserts):
        text = text[:offset] + clauses.lstrip() + " " + text[offset:]
    return text


def _dataset(params: dict[str, list[str]]) -> Dataset:
    defaults, named = params.get("default-graph-uri", []), params.get("named-graph-uri", [])
    if not defaults and not named:
        return Dataset()
    # The protocol: when either is given, the two together describe the whole dataset.
    return Dataset(_iris(defaults, "default-graph-uri"), _iris(named, "named-graph-uri"))


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _decode(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError(400, f"{what} is not valid UTF-8 (byte {e.start})") from None


def _form(body: bytes) -> dict[str, list[str]]:
    try:
        return parse_qs(_decode(body, "the form body"), keep_blank_values=True, strict_parsing=False,
                        errors="strict")
    except UnicodeDecodeError:
        raise ProtocolError(400, "the form body has a percent-encoded value that is not UTF-8") from None


def _url_params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    return params


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise ProtocolError(400, f"the request has {len(values)} '{name}' parameters; send exactly one")
    return values[0] if values else None


def _check_size(text: str, settings: Settings, what: str) -> None:
    if len(text.encode()) > settings.max_body_bytes:
        raise ProtocolError(413, f"the {what} is larger than the {settings.max_body_bytes}-byte limit")


# -- evaluation ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    body: bytes
    fmt: rf.Format
    truncated: bool = False


class NotAcceptable(Exception):
    def __init__(self, offered: Sequence[rf.Format]) -> None:
        super().__init__(", ".join(f.media_type for f in offered))
        self.offered = tuple(offered)


def executor(request: Request) -> ThreadPoolExecutor:
    """The app's query worker pool (created with the app; see :func:`api.app.create_app`)."""
    state = request.app.state
    pool = getattr(state, "query_executor", None)
    if pool is None:
        pool = state.query_executor = ThreadPoolExecutor(max_workers=state.settings.query_workers,
                                                         thread_name_prefix="sparql")
    return pool


def query_pool(request: Request) -> QueryPool | None:
    """The app's pool of killable query worker processes, made on the first query, when the store is
    the embedded on-disk one and ``Settings.query_workers`` > 0; else None (queries run in threads)."""
    state = request.app.state
    pool = getattr(state, "query_pool", None)
    if pool is None and not getattr(state, "query_pool_checked", False):
        with _POOL_GUARD:
            if not getattr(state, "query_pool_checked", False):
                store, settings = state.store, state.settings
                if (isinstance(store, OxigraphStore) and store.path is not None and settings.query_workers > 0
                        and settings.query_processes):
                    pool = state.query_pool = QueryPool(store, settings.query_workers)
                    # Threads that wait on the workers: more than the workers, so that a request
                    # queued for a worker waits in the pool, under its own deadline.
                    state.query_pool_waiters = ThreadPoolExecutor(max_workers=4 * settings.query_workers,
                                                                  thread_name_prefix="sparql-wait")
                state.query_pool_checked = True
            pool = getattr(state, "query_pool", None)
    return pool


_POOL_GUARD = threading.Lock()


def close_query_pool(app: object) -> None:
    """Stop every query worker (running queries included): the server is shutting down."""
    state = app.state  # type: ignore[attr-defined]
    pool: QueryPool | None = getattr(state, "query_pool", None)
    if pool is not None:
        pool.close()
        state.query_pool_waiters.shutdown(wait=False, cancel_futures=True)


def _evaluate_in_pool(pool: QueryPool, deadline: float, sparql: str, dataset: Dataset, accept: str | None,
                      settings: Settings) -> Outcome | _Failure:
    """:func:`_evaluate_in_worker` in a worker process, stopped for real at ``deadline``."""
    try:
        return pool.run(_evaluate_in_worker, (sparql, dataset, accept, settings), deadline - time.monotonic())
    except QueryError as e:
        return _Failure(type(e), str(e))


def _evaluate(store: Store, sparql: str, dataset: Dataset, accept: str | None, settings: Settings) -> Outcome:
    """Run one query, cut it at the row limit, and serialize it (in a worker thread)."""
    result = store.query(sparql, default_graph=dataset.default_graphs, named_graphs=dataset.named_graphs,
                         timeout_s=settings.query_timeout_s)
    if isinstance(result, BooleanResult):
        fmt = rf.negotiate(accept, rf.BOOLEAN_FORMATS)
        if fmt is None:
            raise NotAcceptable(rf.BOOLEAN_FORMATS)
        return Outcome(rf.serialize_boolean(fmt, result.value), fmt)
    if isinstance(result, Solutions):
        fmt = rf.negotiate(accept, rf.SOLUTION_FORMATS)
        if fmt is None:
            raise NotAcceptable(rf.SOLUTION_FORMATS)
        rows = list(islice(result.rows, settings.max_rows + 1))
        truncated = len(rows) > settings.max_rows
        rows = rows[: settings.max_rows]
        return Outcome(rf.serialize_solutions(fmt, result.variables, rows, truncated), fmt, truncated)
    assert isinstance(result, GraphResult)
    fmt = rf.negotiate(accept, rf.GRAPH_FORMATS)
    if fmt is None:
        raise NotAcceptable(rf.GRAPH_FORMATS)
    triples = list(islice(result.triples, settings.max_rows + 1))
    truncated = len(triples) > settings.max_rows
    return Outcome(rf.serialize_triples(fmt, triples[: settings.max_rows], truncated), fmt, truncated)


@dataclass(frozen=True)
class _Failure:
    """An error of a worker-thread evaluation, carried back as data (see :func:`_evaluate_in_worker`)."""

    kind: type[Exception]
    message: str
    offered: tuple[rf.Format, ...] = ()


def _evaluate_in_worker(store: Store, sparql: str, dataset: Dataset, accept: str | None,
                        settings: Settings) -> Outcome | _Failure:
    """:func:`_evaluate`, with its errors turned into plain data *inside* the worker thread.

    pyoxigraph's result iterators must be freed on the thread that made them (they are "unsendable").
    An exception raised past them would carry their frames in its traceback to the event-loop thread
    and free them there; returning a :class:`_Failure` frees them here, when the except block ends."""
    try:
        return _evaluate(store, sparql, dataset, accept, settings)
    except NotAcceptable as e:
        return _Failure(NotAcceptable, str(e), e.offered)
    except QueryError as e:
        return _Failure(type(e), str(e))


async def _wait(future: Future, timeout_s: float, what: str) -> object:
    """The future's result within ``timeout_s``; past it, a 503 (the work may go on: see module doc)."""
    try:
        # asyncio.timeout rather than wait_for: on Python 3.11 wait_for waits through an extra future
        # and callback, one more event-loop pass on every query's way back.
        async with asyncio.timeout(timeout_s):
            return await asyncio.wrap_future(future)
    except TimeoutError:
        future.cancel()  # only helps if it never started
        raise ProtocolError(503, f"the {what} exceeded the {timeout_s:g} s time limit and was abandoned",
                            headers={"Retry-After": "5"}) from None


async def run_query(request: Request, sparql: str, dataset: Dataset) -> Response:
    """Check, evaluate and serialize one query; errors become ProtocolErrors."""
    settings: Settings = request.app.state.settings
    store: Store = request.app.state.store
    _check_size(sparql, settings, "query")
    sparql = with_base(sparql, endpoint_url(request))
    refuse_remote_access(sparql, False, settings.federation_allowlist)
    refuse_cross_products(sparql)
    accept = request.headers.get("accept")
    pool = query_pool(request)
    if pool is not None:
        deadline = time.monotonic() + settings.query_timeout_s
        future = request.app.state.query_pool_waiters.submit(_evaluate_in_pool, pool, deadline, sparql, dataset,
                                                             accept, settings)
        # The pool answers at the deadline itself (having killed the worker); this bound is a backstop.
        outcome = await _wait(future, settings.query_timeout_s + 2.0, "query")
    else:
        future = executor(request).submit(_evaluate_in_worker, store, sparql, dataset, accept, settings)
        outcome = await _wait(future, settings.query_timeout_s, "query")
    if isinstance(outcome, _Failure):
        if outcome.kind is NotAcceptable:
            raise ProtocolError(406, f"no acceptable result format for this query; offered: {outcome.message}")
        if issubclass(outcome.kind, QueryTimeoutError):
            raise ProtocolError(503, outcome.message, headers={"Retry-After": "5"})
        raise query_error(QueryError(outcome.message), sparql)
    assert isinstance(outcome, Outcome)
    headers = {"Vary": "Accept"}
    if outcome.truncated:
        headers[TRUNCATED_HEADER] = "true"
        headers["DLOM-Max-Rows"] = str(settings.max_rows)
        headers["Link"] = f'<{rf.TRUNCATED_LINK}>; rel="describedby"'
    return Response(outcome.body, media_type=outcome.fmt.content_type, headers=headers)


# -- service description ---------------------------------------------------------------------------

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS_NS = "http://www.w3.org/ns/formats/"


def service_description(endpoint: str, settings: Settings) -> list[Triple]:
    """The SPARQL 1.1 Service Description of this endpoint, as triples."""
    sd = lambda name: NamedNode(SD + name)  # noqa: E731 - a local vocabulary shorthand
    service, dataset, default = BlankNode("service"), BlankNode("dataset"), BlankNode("defaultGraph")
    out = [
        Triple(service, RDF.type, sd("Service")),
        Triple(service, sd("endpoint"), NamedNode(endpoint)),
        Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        Triple(service, sd("defaultDataset"), dataset),
        Triple(dataset, RDF.type, sd("Dataset")),
        Triple(dataset, sd("defaultGraph"), default),
        Triple(default, RDF.type, sd("Graph")),
    ]
    if settings.update_token:
        out.append(Triple(service, sd("supportedLanguage"), sd("SPARQL11Update")))
    if settings.federation_allowlist:
        out.append(Triple(service, sd("feature"), sd("BasicFederatedQuery")))
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                 "Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        out.append(Triple(service, sd("resultFormat"), NamedNode(FORMATS_NS + name)))
    for i, repo in enumerate(Repository):
        graph = BlankNode(f"named{i}")
        out += [Triple(dataset, sd("namedGraph"), graph), Triple(graph, RDF.type, sd("NamedGraph")),
                Triple(graph, sd("name"), repo.graph)]
    out += provenance_triples(service, dataset)  # package version, shipped-graph build, predictor
    return out


# -- routes ----------------------------------------------------------------------------------------

EXAMPLE_QUERY = ("SELECT ?model ?label WHERE { ?model a <https://w3id.org/dlom#Model> ; "
                 "<http://www.w3.org/2000/01/rdf-schema#label> ?label } LIMIT 5")
EXAMPLE_UPDATE = ('INSERT DATA { <https://example.org/my/thing> <http://www.w3.org/2000/01/rdf-schema#label> '
                  '"my thing" }')
_QUERY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            FORM: {"schema": {"type": "object", "required": ["query"], "properties": {
                "query": {"type": "string"},
                "default-graph-uri": {"type": "array", "items": {"type": "string"}},
                "named-graph-uri": {"type": "array", "items": {"type": "string"}}}},
                "example": {"query": EXAMPLE_QUERY}},
            SPARQL_QUERY: {"schema": {"type": "string"}, "example": EXAMPLE_QUERY},
        },
    },
}
_UPDATE_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            FORM: {"schema": {"type": "object", "required": ["update"], "properties": {"update": {"type": "string"}}},
                   "example": {"update": EXAMPLE_UPDATE}},
            SPARQL_UPDATE: {"schema": {"type": "string"}, "example": EXAMPLE_UPDATE},
        },
    },
}
_RESPONSES = {
    200: {"description": "Results; the media type follows the Accept header",
          "content": {f.media_type: {} for f in (*rf.SOLUTION_FORMATS, *rf.GRAPH_FORMATS)}},
    400: {"description": "Malformed request or SPARQL syntax error (with line and column)"},
    403: {"description": "SERVICE/LOAD of a non-allowlisted address"},
    406: {"description": "No acceptable result format"},
    413: {"description": "Request too large"},
    415: {"description": "Unsupported content type"},
    503: {"description": "Query time limit exceeded"},
}


@router.get("/sparql", responses=_RESPONSES, summary="SPARQL query (GET), or the service description")
async def sparql_get(
    request: Request,
    query: str | None = Query(None, description="SPARQL 1.1 query; absent: the service description",
                              openapi_examples={"models": {"summary": "five models and their labels",
                                                           "value": EXAMPLE_QUERY}}),
    default_graph_uri: list[str] = Query([], alias="default-graph-uri"),
    named_graph_uri: list[str] = Query([], alias="named-graph-uri"),
) -> Response:
    # The parameters above document the endpoint in OpenAPI; the protocol's repeated parameters are
    # read from the request itself (see answer_get), which is also what QueryLane calls.
    return await answer_get(request)


async def answer_get(request: Request) -> Response:
    """``GET /sparql``: a query in the URL, or the service description when there is none."""
    try:
        params = _url_params(request)
        if "update" in params:
            raise ProtocolError(400, "updates are not accepted at /sparql; POST them to /sparql/update")
        text = _single(params, "query")
        if text is None:
            return _service_description_response(request)
        return await run_query(request, text, _dataset(params))
    except ProtocolError as e:
        return e.response()


def _service_description_response(request: Request) -> Response:
    fmt = rf.negotiate(request.headers.get("accept"), rf.GRAPH_FORMATS)
    if fmt is None:
        raise ProtocolError(406, "no acceptable format for the service description; offered: "
                                 + ", ".join(f.media_type for f in rf.GRAPH_FORMATS))
    endpoint = str(request.url.replace(query=""))
    body = rf.serialize_triples(fmt, service_description(endpoint, request.app.state.settings),
                                prefixes={"sd": SD, "formats": FORMATS_NS})
    return Response(body, media_type=fmt.content_type, headers={"Vary": "Accept"})


@router.post("/sparql", responses=_RESPONSES, openapi_extra=_QUERY_DOC, summary="SPARQL query (POST)")
async def sparql_post(request: Request) -> Response:
    """``POST /sparql``: a query as a form field or as the body (``application/sparql-query``)."""
    try:
        media = _media_type(request)
        body = await request.body()
        _check_size_bytes(body, request.app.state.settings)
        url_params = _url_params(request)
        if media == FORM:
            params = _form(body)
            if "update" in params:
                raise ProtocolError(400, "updates are not accepted at /sparql; POST them to /sparql/update")
            for key in ("default-graph-uri", "named-graph-uri"):
                params.setdefault(key, []).extend(url_params.get(key, []))
            text = _single(params, "query")
            if text is None:
                raise ProtocolError(400, "the form has no 'query' field")
            return await run_query(request, text, _dataset(params))
        if media == SPARQL_QUERY:
            if "query" in url_params:
                raise ProtocolError(400, "a application/sparql-query POST carries the query in the body, "
                                         "not in a 'query' parameter")
            return await run_query(request, _decode(body, "the query"), _dataset(url_params))
        raise ProtocolError(415, f"unsupported content type {media or '(none)'!r}; use {FORM} or {SPARQL_QUERY}")
    except ProtocolError as e:
        return e.response()


class QueryLane:
    """ASGI middleware: ``GET /sparql`` and ``POST /sparql`` go straight to :func:`answer_get` and
    :func:`sparql_post`, past FastAPI's router, dependency solver and per-route wrappers.

    Why: queries are the service's hot path, and that dispatch cost each /sparql request 0.1-0.2 ms
    on the 2-core development machine (about a tenth of a Query 1 evaluation;
    ``benchmarks/api_sparql.py``) while giving these handlers nothing: they take only the Request and
    read every parameter themselves.

    What stays the same: the lane is installed inside the app's middleware, after the 413 body limit
    and inside the last-resort 500 handler (see :func:`api.app.create_app`), so limits and error
    handling are those of every route; it matches exactly the path and methods the routes declare,
    and everything else (``/sparql/update``, ``HEAD``, ``/sparql/``) goes on to the router as before.
    The routes stay registered: they document the endpoint in OpenAPI and answer identically without
    the lane (``tests/test_api_sparql_lane.py`` compares the two).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            handler = _LANE_HANDLERS.get(scope["method"])
            if handler is not None and _route_path(scope) == "/sparql":
                response = await handler(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path the router matches: without the ``root_path`` prefix a proxy may have added."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root + "/") else path


_LANE_HANDLERS = {"GET": answer_get, "POST": sparql_post}


def _check_size_bytes(body: bytes, settings: Settings) -> None:
    if len(body) > settings.max_body_bytes:
        raise ProtocolError(413, f"the request body is larger than the {settings.max_body_bytes}-byte limit")


# -- updates ---------------------------------------------------------------------------------------

@dataclass
class _Ticket:
    """Shared between a waiting request and its worker: the request may abandon the update until
    the worker starts committing, and never after."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    abandoned: bool = False
    committing: bool = False

    def may_commit(self) -> bool:
        with self.lock:
            self.committing = not self.abandoned
            return self.committing


@router.post("/sparql/update", openapi_extra=_UPDATE_DOC, summary="SPARQL update (validated)",
             responses={200: {"description": "Committed; counts of inserted and deleted quads"},
                        400: {"description": "Malformed update"}, 401: {"description": "No or malformed credentials"},
                        403: {"description": "Wrong token, updates disabled, or SERVICE/LOAD refused"},
                        413: {"description": "Request too large"}, 415: {"description": "Unsupported content type"},
                        422: {"description": "The update would violate the SHACL shapes; nothing was written"},
                        503: {"description": "Time limit exceeded; nothing was written"}},
             dependencies=[needs_update_token("SPARQL updates")])
async def sparql_update(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    try:
        media = _media_type(request)
        body = await request.body()
        _check_size_bytes(body, settings)
        url_params = _url_params(request)
        if media == FORM:
            params = _form(body)
            if "query" in params:
                raise ProtocolError(400, "queries are not accepted at /sparql/update; send them to /sparql")
            text = _single(params, "update")
            if text is None:
                raise ProtocolError(400, "the form has no 'update' field")
            for key in ("using-graph-uri", "using-named-graph-uri"):  # also allowed in the URL of a form POST
                params.setdefault(key, []).extend(url_params.get(key, []))
        elif media == SPARQL_UPDATE:
            text = _decode(body, "the update")
            params = url_params
        else:
            raise ProtocolError(415, f"unsupported content type {media or '(none)'!r}; use {FORM} or {SPARQL_UPDATE}")
        text = with_using_graphs(text, _iris(params.get("using-graph-uri", []), "using-graph-uri"),
                                 _iris(params.get("using-named-graph-uri", []), "using-named-graph-uri"))
        report = await run_validated_update(request, with_base(text, endpoint_url(request)))
        return JSONResponse({"inserted": report.inserted, "deleted": report.deleted})
    except (ProtocolError, ValidationError, QueryError) as e:
        return write_refusal(e)


def write_refusal(e: ProtocolError | ValidationError | QueryError) -> Response:
    """The answer to a refused write (an update or a Graph Store write): the protocol error's status,
    422 with the SHACL violations, or the query error's 400."""
    if isinstance(e, ProtocolError):
        return e.response()
    if isinstance(e, ValidationError):
        return violations_response(e)
    return query_error(e).response()


def violations_response(e: ValidationError) -> JSONResponse:
    """A refused write's 422: the message and each SHACL violation (focus node, path, message, value)."""
    return JSONResponse({"detail": str(e), "violations": [
        {"focus": v.focus, "path": v.path, "message": v.message, "value": v.value} for v in e.violations]},
        status_code=422)


async def run_validated_update(request: Request, text: str) -> UpdateReport:
    """Check an update (SERVICE/LOAD guard), then validate and commit it in a worker thread within the
    time limit (:func:`apply_validated_update`). Raises ProtocolError (403, 503: nothing written),
    ValidationError, QueryError. A commit that has started when the limit passes is waited for and
    reported, so an answer never says "not written" of a write that landed."""
    settings: Settings = request.app.state.settings
    refuse_remote_access(text, True, settings.federation_allowlist)
    ticket = _Ticket()
    future = executor(request).submit(apply_validated_update, request.app.state.store, text, ticket.may_commit)
    try:
        report = await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), settings.query_timeout_s)
    except TimeoutError:
        with ticket.lock:
            ticket.abandoned = not ticket.committing
        if ticket.abandoned:
            future.cancel()
            raise ProtocolError(503, f"the update exceeded the {settings.query_timeout_s:g} s time limit; "
                                     "nothing was written", headers={"Retry-After": "5"}) from None
        report = await asyncio.wrap_future(future)  # the commit had started: report its outcome
    assert isinstance(report, UpdateReport)
    return report
