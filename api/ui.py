"""The web UI: the page at ``/``, its static assets under ``/ui/``, and the thin JSON endpoints the UI
needs that the other routers do not provide.

* ``GET /`` — the single-page UI (wizard → preferences → explained results; graph explorer; SPARQL
  editor; charts). Plain ES modules in ``api/static/js``; the front-end libraries (Cytoscape.js,
  Chart.js, YASQE) are copied into ``api/static/vendor`` by ``scripts/setup_ui.sh``. Without them
  the page still loads and says which tools need them.
* ``GET /ui/{path}`` — a file under ``api/static`` (never outside it); ``/ui/js/requirement-table.js``
  is generated: the requirement table the wizard's fields come from.
* ``GET /api/search?q=&class=&limit=&offset=`` — entities whose label contains ``q``, boards before models,
  with the total count for paging (:func:`kg.exploration.search_page`).
* ``GET /api/classes`` — classes with instances, for the explorer's filter.
* ``GET /api/neighbourhood?iri=&limit=&cluster_at=`` — one-hop graph of an entity, large groups of links as
  clusters, configurations shown as their hardware (:func:`kg.exploration.neighbourhood`).
* ``GET /api/neighbourhood/cluster?iri=&predicate=&direction=&class=&offset=&limit=`` — one page of a
  cluster's members (:func:`kg.exploration.cluster_members`).
* ``POST /api/labels`` ``{"iris": [...]}`` — labels of entities and units of properties, for the SPARQL
  page's result table (:func:`kg.exploration.labels_and_units`).
* ``GET /api/model-card?iri=`` — the Fig. 8b fields of a model (:func:`kg.exploration.model_card`).
* ``GET /api/wizard-options`` — values the graph records for the wizard's text answers.
* ``GET /api/charts/latency-accuracy`` and ``GET /api/charts/predicted-vs-measured`` — chart data
  (:mod:`decision.chart_data`: through the facet index where it is current).

Client mistakes get 4xx with ``{"errors": [{"field", "message"}]}`` (:mod:`api.rest_errors`, the
shape of every REST route, parameter validation included); an IRI the graph does not know is a 404 in
the same shape. No business logic here.
"""
from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from api.rest_errors import ErrorList, FieldErrorRoute, error_response
from decision import chart_data
from decision.requirement_table import REQUIREMENTS
from kg import exploration
from kg.exploration import ExplorationInputError

STATIC_DIR = Path(__file__).parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"

router = APIRouter(route_class=FieldErrorRoute, tags=["Web UI"])
_INPUT_ERROR = {422: {"model": ErrorList, "description": "a malformed parameter (e.g. not an absolute IRI)"}}
_UNKNOWN = {404: {"model": ErrorList, "description": "the graph does not know that IRI"}}

# .mjs is not in every platform's mime table; browsers refuse modules served as text/plain
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/css", ".css")
mimetypes.add_type("image/svg+xml", ".svg")


def _errors(status: int, field: str, message: str) -> JSONResponse:
    return error_response(status, [{"field": field, "message": message}])


def _store(request: Request) -> Any:
    return request.app.state.store


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index() -> Response:
    """The UI page (no-cache, so a restarted server's new UI is picked up)."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.get("/ui/js/requirement-table.js", include_in_schema=False)
def requirement_table_module() -> Response:
    """The requirement table (:data:`decision.requirement_table.REQUIREMENTS`) as an ES module: the
    wizard builds its fields — which, of what kind, bounds, units, 'rank only' — from it."""
    rows = json.dumps([r.to_dict() for r in REQUIREMENTS], ensure_ascii=False, indent=1)
    return Response(f"// generated from decision/requirement_table.py\nexport const REQUIREMENTS = {rows};\n",
                    media_type="text/javascript; charset=utf-8", headers={"Cache-Control": "no-cache"})


@router.get("/ui/{path:path}", include_in_schema=False)
def static_asset(path: str) -> Response:
    """A file under api/static; anything resolving outside it (``..``, absolute paths) is a 404."""
    root = STATIC_DIR.resolve()
    try:
        target = (root / path).resolve()
    except (OSError, ValueError):
        return _errors(404, "path", "no such UI file")
    if root not in target.parents or not target.is_file():
        return _errors(404, "path", f"no such UI file: {path}")
    media_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return FileResponse(target, media_type=media_type, headers={"Cache-Control": "no-cache"})


@router.get("/api/ui/status", summary="What the UI can offer on this server")
def ui_status() -> dict[str, Any]:
    """Which front-end libraries are installed (``scripts/setup_ui.sh`` installs them)."""
    wanted = {"cytoscape": "cytoscape.esm.min.mjs", "chartjs": "chart.umd.min.js", "yasqe": "yasqe.min.js"}
    return {"vendor": {name: (VENDOR_DIR / f).is_file() for name, f in wanted.items()},
            "setup_hint": "run scripts/setup_ui.sh (needs npm) to install the editor, graph and chart libraries"}


_APP_LINK_BAR = (
    '<nav aria-label="DLOM" style="display:flex;gap:1.25rem;align-items:center;height:2.25rem;padding:0 1rem;'
    'box-sizing:border-box;background:#1b2430;font:14px system-ui,sans-serif">'
    '<a href="/" style="color:#fff;font-weight:600">&larr; DLOM web app</a>'
    '<a href="/#/sparql" style="color:#dce6f2">SPARQL editor</a>'
    '<a href="/graphql" style="color:#dce6f2">GraphQL (GraphiQL)</a>'
    '<a href="/docs" style="color:#dce6f2">REST API (Swagger UI)</a></nav>')
APP_LINK_BAR_HEIGHT = "2.25rem"
"""The bar's height, for a vendor page that sizes its own content to the window (GraphiQL)."""


def with_app_link(page: str) -> str:
    """``page`` — a vendor's HTML page served by this app (GraphiQL at /graphql, Swagger UI at /docs) — with a
    bar at the top of its body linking back to the web UI and to the other data tools."""
    head, body, rest = page.partition("<body>")
    if not body:
        raise ValueError("the page has no <body> tag")
    return head + body + _APP_LINK_BAR + rest


@router.get("/api/search", summary="Find entities by label (boards first, paged)", responses=_INPUT_ERROR)
def search(request: Request, q: str = Query("", description="text the label contains (2-200 characters), or an IRI"),
           class_iri: str | None = Query(None, alias="class", description="only instances of this class IRI"),
           limit: int = Query(20, ge=1, le=exploration.MAX_SEARCH_RESULTS),
           offset: int = Query(0, ge=0, le=exploration.MAX_SEARCH_OFFSET, description="matches to skip (paging)")) -> Any:
    try:
        return exploration.search_page(_store(request), q, class_iri or None, limit, offset).to_dict()
    except ExplorationInputError as e:
        return _errors(422, e.field, e.message)


@router.get("/api/classes", summary="Classes with instances (explorer filter)")
def classes(request: Request) -> Any:
    return {"classes": exploration.classes_in_use(_store(request))}


@router.get("/api/neighbourhood", summary="An entity's one-hop neighbourhood as nodes, edges and clusters",
            responses={**_INPUT_ERROR, **_UNKNOWN})
def neighbourhood(request: Request, iri: str = Query("", description="absolute IRI of the entity"),
                  limit: int = Query(60, ge=1, le=exploration.MAX_NEIGHBOURS, description="most links drawn one by one"),
                  cluster_at: int = Query(exploration.CLUSTER_AT, ge=1, le=exploration.MAX_NEIGHBOURS,
                                          description="a group of more links of one predicate and class becomes a cluster")) -> Any:
    try:
        return exploration.neighbourhood(_store(request), iri, limit, cluster_at).to_dict()
    except ExplorationInputError as e:
        return _errors(422, e.field, e.message)
    except LookupError as e:
        return _errors(404, "iri", str(e))


@router.get("/api/neighbourhood/cluster", summary="One page of a neighbourhood cluster's members",
            responses={**_INPUT_ERROR, **_UNKNOWN})
def neighbourhood_cluster(request: Request, iri: str = Query("", description="absolute IRI of the entity"),
                          predicate: str = Query("", description="the cluster's link (an IRI)"),
                          direction: Literal["in", "out"] = Query(..., description="in: they link to the entity; out: it links to them"),
                          class_iri: str = Query("", alias="class", description="the members' class IRI (empty: no class)"),
                          offset: int = Query(0, ge=0, le=exploration.MAX_SEARCH_OFFSET),
                          limit: int = Query(25, ge=1, le=exploration.MAX_CLUSTER_PAGE)) -> Any:
    try:
        return exploration.cluster_members(_store(request), iri, predicate, direction, class_iri, offset, limit).to_dict()
    except ExplorationInputError as e:
        return _errors(422, e.field, e.message)
    except LookupError as e:
        return _errors(404, "iri", str(e))


class LabelRequest(BaseModel):
    """The IRIs a result table shows (entities and properties)."""

    iris: list[str] = Field(..., max_length=exploration.MAX_LABELLED_IRIS)


@router.post("/api/labels", summary="Labels of entities and units of properties (SPARQL result tables)",
             responses=_INPUT_ERROR)
def labels(request: Request, body: LabelRequest) -> Any:
    try:
        return exploration.labels_and_units(_store(request), body.iris)
    except ExplorationInputError as e:
        return _errors(422, e.field, e.message)


@router.get("/api/model-card", summary="A model's fields as in the paper's Fig. 8b", responses={**_INPUT_ERROR, **_UNKNOWN})
def model_card(request: Request, iri: str = Query("", description="IRI of a dlom:Model")) -> Any:
    try:
        return exploration.model_card(_store(request), iri)
    except ExplorationInputError as e:
        return _errors(422, e.field, e.message)
    except LookupError as e:
        return _errors(404, "iri", str(e))


@router.get("/api/wizard-options", summary="Values the graph records for the wizard's answers")
def wizard_options(request: Request) -> Any:
    return exploration.wizard_options(_store(request))


@router.get("/api/charts/latency-accuracy", summary="Inference latency against accuracy, per model")
def latency_accuracy(request: Request) -> Any:
    return chart_data.latency_accuracy_points(_store(request))


@router.get("/api/charts/predicted-vs-measured", summary="Predicted against measured figures")
def predicted_vs_measured(request: Request) -> Any:
    return chart_data.predicted_vs_measured(_store(request))
