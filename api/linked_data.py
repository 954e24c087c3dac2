"""Linked-Data pages: every IRI the store knows dereferences to a description of it.

Routes (content-negotiated: HTML for people, Turtle, JSON-LD, N-Triples or RDF/XML for machines)

* ``GET /id/{path}`` — the instance ``https://w3id.org/dlom/id/{path}`` (DLOM's instance IRIs, so a
  w3id redirect of ``/dlom/id/*`` to this server resolves them).
* ``GET /ontology`` — the ontology document (every ``dlom:`` term; ``https://w3id.org/dlom#X`` lands
  here with the fragment ``#X``, which browsers keep client-side: the HTML page has an anchor per term).
* ``GET /ontology/{name}`` — one ontology term ``https://w3id.org/dlom#{name}``.
* ``GET /api/entity?iri=…`` — any IRI (DLOM's or another vocabulary's) that occurs in the store.

The handlers are plain functions, so FastAPI runs them on its worker threads and a large description
never holds up the event loop. A description is every triple with the IRI as subject, plus up to :data:`MAX_INCOMING` triples that
point at it (HTML shows them as "referenced by"). An IRI the store does not mention is a 404 with a
message; a malformed IRI is a 400.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from api import results_formats as rf
from kg.namespaces import DLOM, DLOM_ID, PREFIXES, RDFS
from kg.store import Store

router = APIRouter(tags=["Linked Data"])

MAX_INCOMING = 200
"""Most triples pointing at an entity that a page lists."""
MAX_OUTGOING = 5000
"""Most triples of an entity's own description (the ontology document is bigger; see ONTOLOGY_LIMIT)."""
ONTOLOGY_LIMIT = 20000

PAGE_FORMATS: tuple[rf.Format, ...] = (rf.HTML, *rf.GRAPH_FORMATS)
_ONTOLOGY_IRI = "https://w3id.org/dlom"


class LinkedDataError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Description:
    iri: NamedNode
    outgoing: list[Triple]
    incoming: list[Triple]


def describe(store: Store, iri: NamedNode, limit: int = MAX_OUTGOING) -> Description:
    """The triples about ``iri`` (bound as a typed term, never spliced into query text)."""
    out = store.select(f"SELECT ?p ?o WHERE {{ ?s ?p ?o }} ORDER BY ?p ?o LIMIT {int(limit)}",
                       substitutions={"s": iri})
    inc = store.select(f"SELECT ?s ?p WHERE {{ ?s ?p ?o }} ORDER BY ?p ?s LIMIT {int(MAX_INCOMING)}",
                       substitutions={"o": iri})
    outgoing = [Triple(iri, p, o) for p, o in out.rows]
    incoming = [Triple(s, p, iri) for s, p in inc.rows]
    return Description(iri, outgoing, incoming)


def _ontology_terms(store: Store) -> list[Triple]:
    result = store.select(
        f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), STR(?ns)) || ?s = ?onto) }} "
        f"ORDER BY ?s ?p ?o LIMIT {ONTOLOGY_LIMIT}",
        substitutions={"ns": Literal(str(DLOM)), "onto": NamedNode(_ONTOLOGY_IRI)})
    return [Triple(s, p, o) for s, p, o in result.rows]


# -- rendering -------------------------------------------------------------------------------------


def page_href(iri: str) -> str:
    """The local page of an IRI: /id/… for instances, /ontology/… for dlom: terms, else /api/entity."""
    if iri.startswith(DLOM_ID):
        return "/id/" + quote(iri[len(DLOM_ID):], safe="/-._~")
    if iri.startswith(str(DLOM)) and iri[len(str(DLOM)):]:
        return "/ontology/" + quote(iri[len(str(DLOM)):], safe="-._~")
    return "/api/entity?iri=" + quote(iri, safe="")


def _short(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and iri != ns:
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _html_term(term: object) -> str:
    if isinstance(term, NamedNode):
        return f'<a href="{escape(page_href(term.value))}">{escape(_short(term.value))}</a>'
    if isinstance(term, BlankNode):
        return f"<code>_:{escape(term.value)}</code>"
    if isinstance(term, Literal):
        suffix = f' <small>@{escape(term.language)}</small>' if term.language else (
            "" if term.datatype.value.endswith("#string") else f" <small>{escape(_short(term.datatype.value))}</small>")
        return f"{escape(term.value)}{suffix}"
    return escape(str(term))


def _label(triples: list[Triple], iri: NamedNode) -> str:
    for t in triples:
        if t.subject == iri and t.predicate == RDFS.label and isinstance(t.object, Literal):
            return t.object.value
    return _short(iri.value)


_STYLE = ("body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}"
          "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;"
          "text-align:left;vertical-align:top}th{width:30%}code{font-size:.9em}")


def _alternates(path: str) -> str:
    sep = "&" if "?" in path else "?"
    links = [f'<a href="{escape(path + sep + "format=" + f.name)}">{escape(f.media_type)}</a>'
             for f in rf.GRAPH_FORMATS]
    return "Also as: " + ", ".join(links)


def render_html(desc: Description, path: str) -> str:
    """A readable page: the entity's properties with links to other entities' pages."""
    title = _label(desc.outgoing, desc.iri)
    rows = "".join(f"<tr><th>{_html_term(t.predicate)}</th><td>{_html_term(t.object)}</td></tr>" for t in desc.outgoing)
    refs = "".join(f"<tr><th>{_html_term(t.subject)}</th><td>{_html_term(t.predicate)}</td></tr>" for t in desc.incoming)
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)} — DLOM</title>"
            f"<style>{_STYLE}</style></head><body><main><h1>{escape(title)}</h1>"
            f"<p><code>{escape(desc.iri.value)}</code></p><p>{_alternates(path)}</p>"
            f"<h2>Properties</h2><table>{rows or '<tr><td>none</td></tr>'}</table>"
            + (f"<h2>Referenced by</h2><table>{refs}</table>" if refs else "")
            + "</main></body></html>")


def render_ontology_html(triples: list[Triple], path: str) -> str:
    """The ontology document: one section per term, with an ``id`` anchor equal to its local name."""
    by_subject: dict[str, list[Triple]] = {}
    for t in triples:
        by_subject.setdefault(t.subject.value if isinstance(t.subject, NamedNode) else str(t.subject), []).append(t)
    sections = []
    for subject, ts in by_subject.items():
        anchor = subject[len(str(DLOM)):] if subject.startswith(str(DLOM)) else ""
        rows = "".join(f"<tr><th>{_html_term(t.predicate)}</th><td>{_html_term(t.object)}</td></tr>" for t in ts)
        sections.append(f'<section id="{escape(anchor)}"><h2><a href="{escape(page_href(subject))}">'
                        f"{escape(_short(subject))}</a></h2><table>{rows}</table></section>")
    return (f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>DLOM ontology</title>"
            f"<style>{_STYLE}</style></head><body><main><h1>DLOM ontology</h1><p><code>{_ONTOLOGY_IRI}</code></p>"
            f"<p>{_alternates(path)}</p>{''.join(sections)}</main></body></html>")


def _choose_format(request: Request) -> rf.Format:
    """``?format=`` (html, turtle, jsonld, ntriples, rdfxml) wins over the Accept header."""
    wanted = request.query_params.get("format")
    if wanted is not None:
        for fmt in PAGE_FORMATS:
            if fmt.name == wanted:
                return fmt
        raise LinkedDataError(400, f"unknown format {wanted!r}; use one of: "
                                   + ", ".join(f.name for f in PAGE_FORMATS))
    fmt = rf.negotiate(request.headers.get("accept"), PAGE_FORMATS)
    if fmt is None:
        raise LinkedDataError(406, "no acceptable format; offered: " + ", ".join(f.media_type for f in PAGE_FORMATS))
    return fmt


def _entity_response(request: Request, iri_text: str) -> Response:
    try:
        try:
            iri = NamedNode(iri_text)
        except ValueError as e:
            raise LinkedDataError(400, f"{iri_text!r} is not a valid absolute IRI ({e})") from None
        fmt = _choose_format(request)
        store: Store = request.app.state.store
        desc = describe(store, iri)
        if not desc.outgoing and not desc.incoming:
            raise LinkedDataError(404, f"<{iri.value}> is not described in this knowledge graph")
        path = request.url.path + (f"?iri={quote(iri_text, safe='')}" if request.url.path == "/api/entity" else "")
        headers = {"Vary": "Accept", "Link": f'<{iri.value}>; rel="about"'}
        if fmt is rf.HTML:
            return HTMLResponse(render_html(desc, path), headers=headers)
        return Response(rf.serialize_triples(fmt, desc.outgoing), media_type=fmt.content_type, headers=headers)
    except LinkedDataError as e:
        return JSONResponse({"detail": e.message}, status_code=e.status)


_PAGE_RESPONSES = {
    200: {"description": "The entity's description", "content": {f.media_type: {} for f in PAGE_FORMATS}},
    400: {"description": "Malformed IRI or unknown format"},
    404: {"description": "The IRI is not in the knowledge graph"},
    406: {"description": "No acceptable format"},
}


@router.get("/api/entity", responses=_PAGE_RESPONSES, summary="Describe any IRI in the knowledge graph")
def entity_by_iri(request: Request, iri: str = Query(..., description="absolute IRI")) -> Response:
    return _entity_response(request, iri)


@router.get("/id/{path:path}", responses=_PAGE_RESPONSES, summary="Dereference a DLOM instance IRI")
def instance(request: Request, path: str) -> Response:
    return _entity_response(request, DLOM_ID + path)


@router.get("/ontology", responses=_PAGE_RESPONSES, summary="The DLOM ontology document")
def ontology_document(request: Request) -> Response:
    try:
        fmt = _choose_format(request)
    except LinkedDataError as e:
        return JSONResponse({"detail": e.message}, status_code=e.status)
    triples = _ontology_terms(request.app.state.store)
    if not triples:
        return JSONResponse({"detail": "the ontology is not loaded in this store"}, status_code=404)
    if fmt is rf.HTML:
        return HTMLResponse(render_ontology_html(triples, request.url.path), headers={"Vary": "Accept"})
    return Response(rf.serialize_triples(fmt, triples), media_type=fmt.content_type, headers={"Vary": "Accept"})


@router.get("/ontology/{name}", responses=_PAGE_RESPONSES, summary="Dereference a dlom: term")
def ontology_term(request: Request, name: str) -> Response:
    return _entity_response(request, str(DLOM) + name)
