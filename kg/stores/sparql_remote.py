"""A remote SPARQL 1.1 endpoint as the store (Fuseki, GraphDB, Virtuoso, an Oxigraph server, ...).

URL: ``sparql+http://[user:password@]host:port/path[?options]`` (or ``sparql+https://``). The part after
``sparql+`` is the *dataset base URL*; by default (the Fuseki convention)

* queries go to ``<base>/query`` and
* updates go to ``<base>/update``,

so ``sparql+http://localhost:3030/ds`` uses ``http://localhost:3030/ds/query`` and ``.../ds/update``.
Options (URL query parameters):

``query=`` / ``update=``
    the endpoint, as an absolute URL (``http://...``), a path on the same server (``/repositories/kg``),
    or a segment appended to the base (``sparql``; empty = the base itself). GraphDB:
    ``sparql+http://host:7200/repositories/kg?query=&update=statements``; an Oxigraph server:
    ``sparql+http://host:7878?union=server``; Virtuoso: ``sparql+http://host:8890/sparql?query=&update=&union=server``.
``union=list|jena|server``
    how the default graph becomes the union of all graphs, as :class:`kg.store.Store` requires:
    ``list`` (default, portable) lists the named graphs (``SELECT ?g { GRAPH ?g {} }``) and sends them as
    ``default-graph-uri`` protocol parameters (quads in the server's own default graph are not part of
    the union then; DLOM writes every quad into a named graph, see :mod:`kg.repositories`); ``jena``
    sends Jena's ``urn:x-arq:UnionGraph`` + ``urn:x-arq:DefaultGraph`` (Fuseki; one request, everything);
    ``server`` sends nothing, for servers whose default graph already is the union (GraphDB, Virtuoso,
    ``oxigraph serve --union-default-graph``, Fuseki with ``tdb2:unionDefaultGraph``).
``timeout=SECONDS``
    the HTTP timeout of every request (default 60); a query's own ``timeout_s`` wins when given.

Credentials in the URL are sent as HTTP basic auth. Each :meth:`RemoteSparqlStore.add` /
:meth:`~RemoteSparqlStore.replace` / :meth:`~RemoteSparqlStore.update` is one SPARQL Update request, which
SPARQL 1.1 servers execute as one transaction. Blank nodes cannot be addressed across requests on a
remote server, so removing quads that contain blank nodes is refused.
"""
from __future__ import annotations

import json
import re
import socket
import time
import urllib.error
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit, urlunsplit

import pyoxigraph as ox
from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad
from SPARQLWrapper import JSON, POST, POSTDIRECTLY, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import (
    EndPointInternalError,
    EndPointNotFound,
    QueryBadFormed,
    SPARQLWrapperException,
    Unauthorized,
)

from kg.binding import bind
from kg.errors import QueryError, QueryTimeoutError, StoreURLError
from kg.stores.nquads import parse_nquads
from kg.results import BooleanResult, GraphResult, QueryResult, Solutions
from kg.store import Queries, register_backend, run_check_first
from kg.terms import Term

_DEFAULT_TIMEOUT_S = 60.0
_UNION_MODES = ("list", "jena", "server")
_JENA_UNION = ["urn:x-arq:UnionGraph", "urn:x-arq:DefaultGraph"]
_JENA_DEFAULT = "urn:x-arq:DefaultGraph"
_NO_GRAPH = "urn:dlom:no-graph"  # a graph name that never holds quads: stands for "empty"


def endpoints_for(url: str) -> tuple[str, str, dict[str, str]]:
    """The query URL, update URL and remaining options a ``sparql+http(s)://`` store URL names."""
    parts = urlsplit(url)
    if parts.scheme not in ("sparql+http", "sparql+https") or not parts.hostname:
        raise StoreURLError(f"not a remote SPARQL store URL (sparql+http://host:port/dataset): {url!r}")
    options = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(options) - {"query", "update", "union", "timeout"}
    if unknown:
        raise StoreURLError(f"unknown option(s) {sorted(unknown)} in {url!r}; known: query, update, union, timeout")
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    base = urlunsplit((parts.scheme.removeprefix("sparql+"), host, parts.path.rstrip("/"), "", ""))

    def resolve(option: str, default: str) -> str:
        value = options.get(option, default)
        if value.startswith(("http://", "https://")):
            return value
        if value.startswith("/"):
            return urljoin(base + "/", value)
        return f"{base}/{value}" if value else base

    return resolve("query", "query"), resolve("update", "update"), options


def _term(binding: Mapping[str, Any]) -> Term:
    """A pyoxigraph term from one SPARQL JSON results binding."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return NamedNode(value)
    if kind == "bnode":
        try:
            return BlankNode(value)
        except ValueError:  # a server label pyoxigraph will not take: keep it distinct and stable
            return BlankNode("b" + value.encode().hex())
    if kind in ("literal", "typed-literal"):
        if binding.get("xml:lang"):
            return Literal(value, language=binding["xml:lang"])
        if binding.get("datatype"):
            return Literal(value, datatype=NamedNode(binding["datatype"]))
        return Literal(value)
    raise QueryError(f"unsupported term type {kind!r} in the endpoint's results")


def _quads_block(quads: Sequence[Quad]) -> str:
    """Quads as the body of INSERT DATA / DELETE DATA; every term is written by pyoxigraph (escaped)."""
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        g = q.graph_name
        key = "" if isinstance(g, DefaultGraph) else str(g)
        by_graph.setdefault(key, []).append(f"{q.subject} {q.predicate} {q.object} .")
    parts = []
    for g, lines in by_graph.items():
        inner = "\n".join(lines)
        parts.append(f"GRAPH {g} {{\n{inner}\n}}\n" if g else inner + "\n")
    return "".join(parts)


@register_backend("sparql+http", "sparql+https")
class RemoteSparqlStore(Queries):
    """The :class:`kg.store.Store` protocol over the SPARQL 1.1 Protocol (see the module docstring)."""

    generation: int | None = None  # other clients write to the server too: nothing derived is kept

    def generation_of(self, vocabularies: Iterable[str]) -> int | None:
        return None

    def __init__(self, url: str) -> None:
        self.url = url
        self.query_url, self.update_url, options = endpoints_for(url)
        self.union = options.get("union", "list")
        if self.union not in _UNION_MODES:
            raise StoreURLError(f"union must be one of {', '.join(_UNION_MODES)} in {url!r}")
        try:
            self.timeout_s = float(options.get("timeout", _DEFAULT_TIMEOUT_S))
        except ValueError:
            raise StoreURLError(f"timeout must be a number of seconds in {url!r}") from None
        parts = urlsplit(url)
        self._credentials = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
        try:
            self._request(self.query_url, "ASK {}", JSON, timeout_s=min(self.timeout_s, 10.0))
        except QueryError as e:
            raise StoreURLError(f"cannot use the SPARQL endpoint {self.query_url}: {e}") from None

    # -- HTTP ------------------------------------------------------------------------------------

    def _wrapper(self, endpoint: str, timeout_s: float | None) -> SPARQLWrapper:
        wrapper = SPARQLWrapper(endpoint, updateEndpoint=self.update_url)
        wrapper.setMethod(POST)
        # Set directly: SPARQLWrapper.setTimeout() truncates to whole seconds, and 0 means "no timeout".
        wrapper.timeout = max(0.001, timeout_s or self.timeout_s)  # type: ignore[assignment]
        if self._credentials:
            wrapper.setCredentials(*self._credentials)
        return wrapper

    def _request(
        self,
        endpoint: str,
        text: str,
        return_format: str,
        *,
        default_graphs: Sequence[str] = (),
        named_graphs: Sequence[str] = (),
        timeout_s: float | None = None,
    ) -> Any:
        wrapper = self._wrapper(endpoint, timeout_s)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # SPARQLWrapper warns on forms it cannot name
            wrapper.setQuery(text)
        wrapper.setReturnFormat(return_format)
        for g in default_graphs:
            wrapper.addDefaultGraph(g)
        for g in named_graphs:
            wrapper.addNamedGraph(g)
        limit = timeout_s or self.timeout_s
        try:
            response = wrapper.query()
            if return_format == JSON:
                return json.loads(response.response.read())
            return response.response.read()
        except QueryBadFormed as e:
            raise QueryError(f"the endpoint rejected the request as malformed: {_server_message(e)}") from None
        except Unauthorized:
            raise QueryError(f"the endpoint {endpoint} refused the credentials (HTTP 401)") from None
        except EndPointNotFound:
            raise QueryError(f"no SPARQL endpoint at {endpoint} (HTTP 404); set ?query=/?update= in the store URL") from None
        except EndPointInternalError as e:
            raise QueryError(f"the endpoint failed: {_server_message(e)}") from None
        except SPARQLWrapperException as e:
            raise QueryError(f"SPARQL request failed: {e}") from None
        except (TimeoutError, socket.timeout):
            raise QueryTimeoutError(f"the endpoint did not answer within {limit:g} s") from None
        except urllib.error.HTTPError as e:
            if e.code in (503, 504):
                raise QueryTimeoutError(f"the endpoint timed out (HTTP {e.code})") from None
            raise QueryError(f"the endpoint answered HTTP {e.code}: {e.reason}") from None
        except urllib.error.URLError as e:
            if isinstance(e.reason, TimeoutError | socket.timeout):
                raise QueryTimeoutError(f"the endpoint did not answer within {limit:g} s") from None
            raise QueryError(f"cannot reach {endpoint}: {e.reason}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise QueryError(f"the endpoint sent unreadable results: {e}") from None

    def _update(self, text: str) -> None:
        wrapper = self._wrapper(self.update_url, None)
        # The update as the request body (application/sparql-update), not a form field: servers cap form
        # sizes (Jetty: 200 kB-10 MB), and a bulk INSERT DATA is far larger.
        wrapper.setRequestMethod(POSTDIRECTLY)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            wrapper.setQuery(text)
        if not wrapper.isSparqlUpdateRequest():
            raise QueryError("not a SPARQL update (expected INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE or COPY)")
        try:
            wrapper.query().response.read()
        except QueryBadFormed as e:
            raise QueryError(f"SPARQL update rejected: {_server_message(e)}") from None
        except (TimeoutError, socket.timeout):
            raise QueryTimeoutError(f"the endpoint did not finish the update within {self.timeout_s:g} s") from None
        except (SPARQLWrapperException, urllib.error.URLError) as e:
            raise QueryError(f"update failed at {self.update_url}: {e}") from None

    def _dataset_params(
        self, text: str, default_graph: Sequence[NamedNode] | None, named_graphs: Sequence[NamedNode] | None
    ) -> tuple[list[str], list[str]]:
        """The ``default-graph-uri`` and ``named-graph-uri`` values for one query.

        Per the SPARQL protocol, once any of them is sent the dataset holds exactly the graphs they list
        (and they override the query's FROM), so when the union is built here both lists are sent.
        """
        if default_graph is None and named_graphs is None:
            if names_own_dataset(text) or self.union == "server":
                return [], []  # the query's FROM / FROM NAMED, or the server's own union default graph
            graphs = self.graph_names()
            return (list(_JENA_UNION) if self.union == "jena" else graphs) or [_NO_GRAPH], graphs or [_NO_GRAPH]
        graphs = self.graph_names() if named_graphs is None else [g.value for g in named_graphs]
        if default_graph is None:
            defaults = list(_JENA_UNION) if self.union == "jena" else graphs
        elif default_graph:
            defaults = [g.value for g in default_graph]
        else:  # the real default graph alone (Jena names it; elsewhere the protocol cannot)
            defaults = [_JENA_DEFAULT] if self.union == "jena" else []
        # An empty list means "nothing", not "the server's choice".
        return defaults or [_NO_GRAPH], graphs or [_NO_GRAPH]

    def graph_names(self) -> list[str]:
        """IRIs of the named graphs that hold quads."""
        data = self._request(self.query_url, "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", JSON)
        return [b["g"]["value"] for b in data["results"]["bindings"] if b.get("g", {}).get("type") == "uri"]

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
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        text = bind(sparql, substitutions or {})
        defaults, named = self._dataset_params(text, default_graph, named_graphs)
        remaining = max(0.001, deadline - time.monotonic())
        form = _query_form(text)
        if form in ("CONSTRUCT", "DESCRIBE"):
            body = self._request(self.query_url, text, TURTLE, default_graphs=defaults, named_graphs=named,
                                 timeout_s=remaining)
            try:
                triples = [q.triple for q in ox.parse(body, format=ox.RdfFormat.TURTLE)]
            except SyntaxError as e:
                raise QueryError(f"the endpoint sent unreadable Turtle: {e}") from None
            return GraphResult(iter(triples))
        data = self._request(self.query_url, text, JSON, default_graphs=defaults, named_graphs=named,
                             timeout_s=remaining)
        if "boolean" in data:
            return BooleanResult(bool(data["boolean"]))
        variables = list(data.get("head", {}).get("vars", []))
        rows = [tuple(_term(b[v]) if v in b else None for v in variables) for b in data["results"]["bindings"]]
        return Solutions(variables, iter(rows))

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        if graph is not None:
            data = self._request(self.query_url, f"SELECT ?s ?p ?o WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}", JSON)
            for b in data["results"]["bindings"]:
                yield Quad(_term(b["s"]), _term(b["p"]), _term(b["o"]), graph)  # type: ignore[arg-type]
            return
        data = self._request(self.query_url, "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }", JSON)
        for b in data["results"]["bindings"]:
            yield Quad(_term(b["s"]), _term(b["p"]), _term(b["o"]), _term(b["g"]))  # type: ignore[arg-type]
        if self.union != "server":  # the server's own default graph (not addressable in server mode)
            defaults = [_JENA_DEFAULT] if self.union == "jena" else []
            data = self._request(self.query_url, "SELECT ?s ?p ?o WHERE { ?s ?p ?o }", JSON, default_graphs=defaults)
            for b in data["results"]["bindings"]:
                yield Quad(_term(b["s"]), _term(b["p"]), _term(b["o"]), DefaultGraph())  # type: ignore[arg-type]

    def count(self, graph: NamedNode | None = None) -> int:
        def single(text: str, defaults: Sequence[str] = ()) -> int:
            data = self._request(self.query_url, text, JSON, default_graphs=defaults)
            rows = data["results"]["bindings"]
            return int(rows[0]["n"]["value"]) if rows and "n" in rows[0] else 0

        if graph is not None:
            return single(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
        total = single("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        if self.union != "server":
            total += single("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", [_JENA_DEFAULT] if self.union == "jena" else [])
        return total

    # -- writes (each one SPARQL Update request = one transaction on the server) -----------------

    def update(self, sparql: str) -> None:
        self._update(sparql)

    def add(self, quads: Iterable[Quad]) -> None:
        quads = list(quads)
        if quads:
            self._update("INSERT DATA {\n" + _quads_block(quads) + "}")

    bulk_add = run_check_first(add)

    def load_nquads(self, data: bytes) -> None:
        self.add(parse_nquads(data))

    def replace(self, remove: Iterable[Quad], add: Iterable[Quad]) -> None:
        remove, add = list(remove), list(add)
        if any(isinstance(t, BlankNode) for q in remove for t in (q.subject, q.object, q.graph_name)):
            raise QueryError("a remote SPARQL store cannot delete quads with blank nodes (they are not addressable)")
        operations = []
        if remove:
            operations.append("DELETE DATA {\n" + _quads_block(remove) + "}")
        if add:
            operations.append("INSERT DATA {\n" + _quads_block(add) + "}")
        if operations:
            self._update(" ;\n".join(operations))

    def clear(self) -> None:
        self._update("CLEAR ALL")

    def close(self) -> None:
        """Nothing to release: every request opens and closes its own HTTP connection."""

    def __repr__(self) -> str:
        return f"RemoteSparqlStore({self.url!r})"


_NOISE = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>\s]*>|#[^\n]*')
_FROM = re.compile(r"(?<![\w:?$])FROM(?![\w:])", re.IGNORECASE)


def names_own_dataset(text: str) -> bool:
    """Whether a query has FROM / FROM NAMED (outside strings, IRIs and comments)."""
    return _FROM.search(_NOISE.sub(" ", text)) is not None


def _query_form(text: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return SPARQLWrapper("http://unused.invalid")._parseQueryType(text) or "SELECT"


def _server_message(error: Exception) -> str:
    text = str(error)
    # SPARQLWrapper prefixes the server's response body with a long generic sentence.
    marker = "Response:\n"
    return text.split(marker, 1)[1].strip()[:500] if marker in text else text[:500]
