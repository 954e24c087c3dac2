"""The SPARQL 1.1 Graph Store HTTP Protocol at ``/rdf-graphs/service`` (indirect graph identification).

``?graph=<absolute IRI>`` names a graph of the store; ``?default`` is the default graph, which in DLOM
is the union of the repositories' named graphs (as at ``/sparql``).

* ``GET`` — the graph's triples in the format the ``Accept`` header asks for (Turtle by default,
  N-Triples, JSON-LD, RDF/XML; 406 otherwise); 404 for a graph that holds nothing. At most
  ``Settings.max_rows`` triples, a cut marked as at ``/sparql`` (``DLOM-Results-Truncated``).
* ``PUT`` — replace the graph's content with the body (Turtle, N-Triples, JSON-LD or RDF/XML by
  ``Content-Type``; relative IRIs resolve against the request URL): 201 when the graph was new, else 204.
* ``POST`` — add the body's triples to the graph (RDF merge): 201 when the graph was new, else 204.
  ``POST ?default`` adds them to the knowledge graph, each subject routed to its repository, as
  every DLOM write is.
* ``DELETE`` — drop the graph: 204, or 404 when it holds nothing.
* ``PUT`` / ``DELETE`` of ``?default`` are refused (405): the default graph is the union of every
  repository, and replacing or dropping all of it is not a Graph Store operation DLOM offers.
  The ontology graph is read-only (403), as for every import.

Writes need the update token (:mod:`api.auth`) and are SPARQL updates underneath — ``DROP SILENT
GRAPH`` / ``INSERT DATA`` built from the parsed triples by pyoxigraph's own serialization, never from
the body's text — run by :func:`api.sparql_endpoint.run_validated_update`: validated against the SHACL
shapes (422 with the violations, nothing written), committed in one transaction, and bounded by the
same time limit (503, nothing written).
"""
from __future__ import annotations

from itertools import islice

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pyoxigraph import NamedNode, Triple

from api import results_formats as rf
from api.auth import needs_update_token
from api.settings import Settings
from api.sparql_endpoint import TRUNCATED_HEADER, ProtocolError, run_validated_update, write_refusal
from kg.errors import QueryError, ValidationError
from kg.repositories import Repository
from kg.store import Store

router = APIRouter(tags=["SPARQL Graph Store"])

PATH = "/rdf-graphs/service"
_BODY_FORMATS = {"text/turtle": ox.RdfFormat.TURTLE, "application/x-turtle": ox.RdfFormat.TURTLE,
                 "application/n-triples": ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
                 "application/ld+json": ox.RdfFormat.JSON_LD, "application/rdf+xml": ox.RdfFormat.RDF_XML}

_GRAPH_PARAM = Query(None, description="absolute IRI of the graph (or give `default`)",
                     openapi_examples={"a client's graph": {"value": "https://example.org/my/graph"}})
_DEFAULT_PARAM = Query(None, description="present (empty): the default graph, the union of the repositories")
_READ_RESPONSES = {200: {"description": "The graph; the media type follows the Accept header",
                         "content": {f.media_type: {} for f in rf.GRAPH_FORMATS}},
                   400: {"description": "Neither or both of graph and default, or not an absolute IRI"},
                   404: {"description": "The graph holds nothing"}, 406: {"description": "No acceptable format"}}
_WRITE_RESPONSES = {201: {"description": "The graph was created"}, 204: {"description": "Done"},
                    400: {"description": "Bad graph parameter or malformed body"},
                    401: {"description": "No bearer token"}, 403: {"description": "Wrong token, writes off, or the ontology graph"},
                    405: {"description": "PUT/DELETE of the default graph"}, 413: {"description": "Body too large"},
                    415: {"description": "Unsupported content type"},
                    422: {"description": "The write would violate the SHACL shapes; nothing was written"},
                    503: {"description": "Time limit exceeded; nothing was written"}}
_DELETE_RESPONSES = {**{k: v for k, v in _WRITE_RESPONSES.items() if k not in (201, 413, 415)},
                     204: {"description": "The graph was dropped"},
                     404: {"description": "The graph holds nothing (there is nothing to drop)"}}
_EXAMPLE_TRIPLES = '<https://example.org/my/thing> <http://www.w3.org/2000/01/rdf-schema#label> "my thing" .'
_WRITE_BODY = {"requestBody": {"required": True, "content": {  # the example is N-Triples, so Turtle as well
    m: {"schema": {"type": "string"},
        **({"example": _EXAMPLE_TRIPLES} if f in (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES) else {})}
    for m, f in _BODY_FORMATS.items()}}}


def _target(request: Request) -> NamedNode | None:
    """The graph the request names; None for the default graph. Exactly one of the two parameters."""
    params = request.query_params
    graphs, default = params.getlist("graph"), "default" in params
    if default == bool(graphs) or len(graphs) > 1:
        raise ProtocolError(400, "name exactly one graph: ?graph=<absolute IRI> or ?default")
    if default:
        return None
    try:
        graph = NamedNode(graphs[0])
    except ValueError as e:
        raise ProtocolError(400, f"graph: {graphs[0]!r} is not an absolute IRI ({e})") from None
    if graph.value == Repository.ONTOLOGY.graph.value and request.method != "GET":
        raise ProtocolError(403, "the ontology graph is read-only")
    return graph


def _holds_triples(store: Store, graph: NamedNode) -> bool:
    return next(iter(store.quads(graph)), None) is not None


@router.get(PATH, responses=_READ_RESPONSES, summary="Graph Store: a graph's triples")
def get_graph(request: Request, graph: str | None = _GRAPH_PARAM, default: str | None = _DEFAULT_PARAM) -> Response:
    try:
        target = _target(request)
        fmt = rf.negotiate(request.headers.get("accept"), rf.GRAPH_FORMATS)
        if fmt is None:
            raise ProtocolError(406, "no acceptable format; offered: " + ", ".join(f.media_type for f in rf.GRAPH_FORMATS))
        store: Store = request.app.state.store
        settings: Settings = request.app.state.settings
        if target is None:  # the union of every graph, each triple once
            seen: dict[Triple, None] = {}
            for q in store.quads():
                seen.setdefault(q.triple, None)
                if len(seen) > settings.max_rows:
                    break
            triples = list(seen)
        else:
            triples = [q.triple for q in islice(store.quads(target), settings.max_rows + 1)]
            if not triples:
                raise ProtocolError(404, f"the graph <{target.value}> holds no triples")
        truncated = len(triples) > settings.max_rows
        headers = {"Vary": "Accept"}
        if truncated:
            headers.update({TRUNCATED_HEADER: "true", "DLOM-Max-Rows": str(settings.max_rows),
                            "Link": f'<{rf.TRUNCATED_LINK}>; rel="describedby"'})
        body = rf.serialize_triples(fmt, triples[: settings.max_rows], truncated)
        return Response(body, media_type=fmt.content_type, headers=headers)
    except ProtocolError as e:
        return e.response()


async def _parsed_body(request: Request) -> list[Triple]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = _BODY_FORMATS.get(media)
    if fmt is None:
        raise ProtocolError(415, f"unsupported content type {media or '(none)'!r}; use one of " + ", ".join(_BODY_FORMATS))
    body = await request.body()
    try:
        parsed = ox.parse(body, format=fmt, base_iri=str(request.url), without_named_graphs=True)
        return [t.triple if isinstance(t, ox.Quad) else t for t in parsed]
    except SyntaxError as e:
        where = f" at line {e.lineno}" if isinstance(e.lineno, int) else ""
        raise ProtocolError(400, f"malformed {fmt.name} body{where}: {e.msg}", **({"line": e.lineno} if where else {})) from None
    except (ValueError, OSError) as e:
        raise ProtocolError(400, f"malformed {fmt.name} body: {e}") from None


def _data_block(triples: list[Triple], graph: NamedNode | None) -> str:
    lines = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
    return f"GRAPH <{graph.value}> {{\n{lines}\n}}" if graph is not None else lines


async def _write(request: Request, replace: bool) -> Response:
    try:
        target = _target(request)
        if target is None and replace:
            raise ProtocolError(405, "the default graph is the union of every repository: PUT it is not offered; "
                                     "PUT a named graph, or POST to ?default", headers={"Allow": "GET, POST"})
        triples = await _parsed_body(request)
        existed = target is None or _holds_triples(request.app.state.store, target)
        operations = [f"DROP SILENT GRAPH <{target.value}>"] if replace and target is not None else []
        if triples:
            operations.append("INSERT DATA {\n" + _data_block(triples, target) + "\n}")
        if operations:
            await run_validated_update(request, " ;\n".join(operations))
        return Response(status_code=204 if existed else 201)
    except (ProtocolError, ValidationError, QueryError) as e:
        return write_refusal(e)


@router.put(PATH, responses=_WRITE_RESPONSES, openapi_extra=_WRITE_BODY, status_code=204,
            dependencies=[needs_update_token("graph store writes")], summary="Graph Store: replace a graph")
async def put_graph(request: Request, graph: str | None = _GRAPH_PARAM, default: str | None = _DEFAULT_PARAM) -> Response:
    return await _write(request, replace=True)


@router.post(PATH, responses=_WRITE_RESPONSES, openapi_extra=_WRITE_BODY, status_code=204,
             dependencies=[needs_update_token("graph store writes")], summary="Graph Store: add to a graph")
async def post_graph(request: Request, graph: str | None = _GRAPH_PARAM, default: str | None = _DEFAULT_PARAM) -> Response:
    return await _write(request, replace=False)


@router.delete(PATH, responses=_DELETE_RESPONSES, status_code=204,
               dependencies=[needs_update_token("graph store writes")], summary="Graph Store: drop a graph")
async def delete_graph(request: Request, graph: str | None = _GRAPH_PARAM, default: str | None = _DEFAULT_PARAM) -> Response:
    try:
        target = _target(request)
        if target is None:
            raise ProtocolError(405, "the default graph is the union of every repository: DELETE it is not offered; "
                                     "DELETE a named graph", headers={"Allow": "GET, POST"})
        if not _holds_triples(request.app.state.store, target):
            raise ProtocolError(404, f"the graph <{target.value}> holds no triples")
        await run_validated_update(request, f"DROP GRAPH <{target.value}>")
        return Response(status_code=204)
    except (ProtocolError, ValidationError, QueryError) as e:
        return write_refusal(e)
