"""The FastAPI application: one app, one store, routers for each interface.

Cross-cutting behaviour lives here: the request-size limit (413, before any route reads a body), the
405 whose ``Allow`` names every method of the path, the OpenAPI document's account of what the
middleware answers (:func:`document_cross_cutting_responses`), and the last-resort handler that turns
an unexpected exception into a 500 JSON without internals. Client mistakes are answered by the routes
themselves with 4xx and never reach that handler (``tests/test_api_fuzz.py`` checks; every answer is
as ``/openapi.json`` documents it, ``tests/test_api_openapi_fuzz.py`` checks).
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import admission, auth, build_routes, decision_routes, graph_store, graphql_api, rest, sparql_endpoint, ui
from api import effects_routes
from api.predictor import warm_predictor_in_background
from api.settings import Settings
from decision.catalog_listing import list_models_through_index
from decision.recommend import warm_decision_support_in_background
from kg.catalog.queries import warm_model_listing
from kg.exploration import warm_label_index_in_background
from kg.errors import DlomError
from kg.store import Store
from measure.host import register_host

log = logging.getLogger("dlom.api")


class BodySizeLimit:
    """ASGI middleware: a request whose body exceeds ``Settings.max_body_bytes`` gets 413 before any
    route sees it (by ``Content-Length`` when given, else by counting the streamed body)."""

    def __init__(self, app: ASGIApp, settings_of: FastAPI) -> None:
        self.app = app
        self.owner = settings_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.owner.state.settings.max_body_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _json(send, 400, "the Content-Length header is not a number")
                return
            if size > limit:
                await _json(send, 413, f"the request body is larger than the {limit}-byte limit")
                return
        # Read the (bounded) body now, so a chunked upload is also cut at the limit, then replay it.
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                await _json(send, 413, f"the request body is larger than the {limit}-byte limit")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def document_cross_cutting_responses(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document list the answers its middleware gives on every operation they
    apply to, beside the routes' own: 413 (:class:`BodySizeLimit`) on each operation with a request
    body, and admission control's 429 and deadline 503 (:func:`api.admission.openapi_responses`).
    A response a route documents itself is kept as it is."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                extra = dict(admission.openapi_responses(path))
                if "requestBody" in operation:
                    extra["413"] = _TOO_LARGE
                responses = operation.setdefault("responses", {})
                for status, response in extra.items():
                    responses.setdefault(status, response)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


_TOO_LARGE = {"description": "The request body is larger than the limit (DLOM_MAX_BODY_BYTES)",
              "content": {"application/json": {"schema": {"type": "object", "required": ["detail"],
                                                          "properties": {"detail": {"type": "string"}}}}}}


async def _json(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Last resort: log the exception with its trace on the server, tell the client only that it failed."""
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal server error"}, status_code=500)


_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 whose ``Allow`` lists every method the path has, as RFC 9110 requires: the router names only
    the methods of the route it matched first, one of several where a path has a route per method
    (``/sparql``: GET and POST; ``/rdf-graphs/service``: four)."""
    allowed = [m for m in _METHODS
               if any(route.matches({**request.scope, "method": m})[0] is Match.FULL for route in request.app.router.routes)]
    headers = dict(getattr(exc, "headers", None) or {})
    if allowed:
        headers["Allow"] = ", ".join(allowed)
    return JSONResponse({"detail": getattr(exc, "detail", "Method Not Allowed")}, status_code=405, headers=headers)


def describe_this_host(store: Store) -> None:
    """Describe the machine the server runs on (:func:`measure.host.register_host`), so proposals and
    measurements for 'this machine' exist from the first request; a store that refuses the write (a
    read-only remote endpoint) is served all the same, without them."""
    try:
        written = register_host(store)
    except DlomError as e:
        log.warning("this host could not be described in the store (%s); 'measure on this machine' is off", e)
        return
    if written:
        log.info("described this host in the store: %s", ", ".join(written))


def warm_in_background(store: Store) -> None:
    """Start computing the default model listing (:func:`kg.catalog.queries.warm_model_listing`) in a
    daemon thread, so the first GraphQL/REST page after start-up is a slice, not a scan of the graph."""
    def warm() -> None:
        try:
            warm_model_listing(store)
        except DlomError as e:
            log.warning("the model listing could not be computed ahead (%s); the first page will", e)
    threading.Thread(target=warm, name="warm-listing", daemon=True).start()


def create_app(store: Store, settings: Settings | None = None) -> FastAPI:
    """The DLOM web app over ``store``. The app holds no business logic: it calls the libraries."""
    settings = settings or Settings()
    list_models_through_index()  # the model listings read through the facet index where it is current

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        describe_this_host(store)
        warm_in_background(store)
        if settings.warm_predictor:
            warm_predictor_in_background(app.state)
        if settings.warm_facet_index:  # the derived indexes: the decision support's and the explorer search's
            warm_decision_support_in_background(store)
            warm_label_index_in_background(store)
        yield
        sparql_endpoint.close_query_pool(app)  # kills the query worker processes, running queries included
        pool: ThreadPoolExecutor | None = getattr(app.state, "query_executor", None)
        if pool is not None:
            # Queued work is dropped; a running thread cannot be interrupted (see api.sparql_endpoint).
            pool.shutdown(wait=False, cancel_futures=True)

    # docs_url/redoc_url off: FastAPI's own pages load Swagger UI from a CDN; /docs below serves the copy
    # that scripts/setup_ui.sh installs from npm, so the docs work offline.
    app = FastAPI(title="DLOM", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Knowledge graph, decision support and prediction for deep-learning deployments on IoT and edge devices.")
    app.state.store = store
    app.state.settings = settings
    app.state.query_executor = ThreadPoolExecutor(max_workers=settings.query_workers, thread_name_prefix="sparql")
    # Middleware added last runs first: the body limit, then the SPARQL query lane (which must see
    # only requests the limit let through), then FastAPI's own exception handling and router.
    app.add_middleware(sparql_endpoint.QueryLane)
    app.add_middleware(BodySizeLimit, settings_of=app)
    app.add_middleware(admission.Admission, settings_of=app)
    app.add_exception_handler(Exception, _unexpected)
    app.add_exception_handler(405, _method_not_allowed)
    app.add_exception_handler(auth.UpdateTokenRefused, auth.refused_response)
    app.include_router(sparql_endpoint.router)
    app.include_router(graph_store.router)
    app.include_router(rest.router)
    app.include_router(graphql_api.router)
    app.include_router(decision_routes.router)
    app.include_router(effects_routes.router)
    app.include_router(build_routes.router)
    app.include_router(ui.router)
    document_cross_cutting_responses(app)

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        page = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title="DLOM API docs",
                                   swagger_js_url="/ui/vendor/swagger-ui/swagger-ui-bundle.js",
                                   swagger_css_url="/ui/vendor/swagger-ui/swagger-ui.css",
                                   swagger_favicon_url="/ui/favicon.svg",
                                   swagger_ui_parameters={"validatorUrl": None})
        return HTMLResponse(ui.with_app_link(bytes(page.body).decode("utf-8")))

    return app
