"""One update-token check (api.auth) on every route that writes: 401 + ``WWW-Authenticate: Bearer`` when
no bearer token is sent, 403 when it is wrong or the server has none, and the write goes through (to
the route's own answer) with the right one. Over real HTTP, against a store holding the shipped graph."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.predictor import load_predictor
from api.server import serve_in_background
from api.settings import Settings
from kg.bootstrap import ensure_initialized
from kg.store import Store, open_store

TOKEN = "auth-test-token-x9"
GRAPH = "https://example.org/auth-test-graph"


@dataclass(frozen=True)
class WritingRoute:
    name: str
    method: str
    path: str
    request: dict[str, Any]
    graphql: bool = False


# Every route that writes to the knowledge graph. Bodies are valid enough to pass the route's own
# parsing, so that only the credentials decide between refusal and the route's own answer.
WRITING_ROUTES = [
    WritingRoute("sparql-update", "POST", "/sparql/update",
                 {"content": "INSERT DATA { GRAPH <%s> { <https://example.org/a> <https://example.org/p> 1 } }" % GRAPH,
                  "headers": {"Content-Type": "application/sparql-update"}}),
    WritingRoute("gsp-put", "PUT", f"/rdf-graphs/service?graph={GRAPH}",
                 {"content": "<https://example.org/a> <https://example.org/p> \"1\" .",
                  "headers": {"Content-Type": "application/n-triples"}}),
    WritingRoute("gsp-post", "POST", f"/rdf-graphs/service?graph={GRAPH}",
                 {"content": "<https://example.org/b> <https://example.org/p> \"2\" .",
                  "headers": {"Content-Type": "application/n-triples"}}),
    WritingRoute("gsp-delete", "DELETE", f"/rdf-graphs/service?graph={GRAPH}", {}),
    WritingRoute("graphql-mutation", "POST", "/graphql",
                 {"json": {"query": "mutation($i: MeasuredConfigurationInput!) { submitMeasuredConfiguration(input: $i) "
                                    "{ __typename } }",
                           "variables": {"i": {"label": "auth test", "dln": "https://example.org/no-such-dln",
                                               "device": "https://example.org/no-such-device",
                                               "metrics": {"inferenceLatencyMs": 1.0},
                                               "provenance": {"source": "auth test"}}}}},
                 graphql=True),
    WritingRoute("ratings", "POST", "/api/ratings",
                 {"json": {"model": "https://w3id.org/dlom/id/model/no-such-model", "rater": "auth test",
                           "ratings": {"cost": 3}}}),
    WritingRoute("measurements", "POST", "/api/measurements",
                 {"json": {"proposal": {"dln": "no-such-dln", "devices": ["no-such-device"], "techniques": []}}}),
]


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    s = open_store("oxigraph://")
    ensure_initialized(s)
    yield s
    s.close()


@pytest.fixture(scope="module")
def with_token(store: Store) -> Iterator[httpx.Client]:
    app = create_app(store, Settings(update_token=TOKEN))
    # As `dlom serve` warms it up: loading the prediction model (tens of seconds of CPU on a busy
    # machine) is not the first authorized measurement request's to pay within the request time limit.
    load_predictor(app.state)
    with serve_in_background(app) as url, \
            httpx.Client(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def without_token(store: Store) -> Iterator[httpx.Client]:
    with serve_in_background(create_app(store, Settings(update_token=None))) as url, \
            httpx.Client(base_url=url, timeout=30) as client:
        yield client


def _send(client: httpx.Client, route: WritingRoute, authorization: str | None) -> tuple[int, httpx.Response, str]:
    """(the refusal status the route answered, the response, its message). GraphQL answers HTTP 200 and
    carries the status in ``errors[0].extensions.status``; a request that was not refused: status 0."""
    headers = dict(route.request.get("headers", {}))
    if authorization is not None:
        headers["Authorization"] = authorization
    response = client.request(route.method, route.path, **{**route.request, "headers": headers})
    if route.graphql:
        assert response.status_code == 200, response.text
        errors = response.json().get("errors") or []
        status = next((e.get("extensions", {}).get("status") for e in errors
                       if e.get("extensions", {}).get("status") in (401, 403)), 0)
        return status, response, errors[0]["message"] if errors else ""
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    status = response.status_code if response.status_code in (401, 403) else 0
    message = body.get("detail") if isinstance(body.get("detail"), str) else ""
    return status, response, message


@pytest.mark.parametrize("route", WRITING_ROUTES, ids=lambda r: r.name)
def test_no_token_is_401_with_a_bearer_challenge(with_token: httpx.Client, store: Store, route: WritingRoute) -> None:
    before = store.count()
    for authorization in (None, "", "Basic dXNlcjpwYXNz", "Bearer", f"Bearer {TOKEN} extra"):
        status, response, message = _send(with_token, route, authorization)
        assert status == 401, (authorization, response.text)
        assert "Authorization: Bearer" in message
        if not route.graphql:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
            assert response.json()["errors"] == [{"field": "Authorization", "message": message}]
    assert store.count() == before


@pytest.mark.parametrize("route", WRITING_ROUTES, ids=lambda r: r.name)
def test_a_wrong_token_is_403(with_token: httpx.Client, store: Store, route: WritingRoute) -> None:
    before = store.count()
    for wrong in ("wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper()):
        status, response, message = _send(with_token, route, f"Bearer {wrong}")
        assert status == 403, (wrong, response.text)
        assert message == "the update token is not valid"
        assert "WWW-Authenticate" not in response.headers
    assert store.count() == before


@pytest.mark.parametrize("route", WRITING_ROUTES, ids=lambda r: r.name)
def test_writes_are_off_without_a_server_token(without_token: httpx.Client, store: Store, route: WritingRoute) -> None:
    before = store.count()
    for authorization in (None, f"Bearer {TOKEN}"):
        status, response, message = _send(without_token, route, authorization)
        assert status == 403, response.text
        assert "disabled on this server" in message and "DLOM_UPDATE_TOKEN" in message
    assert store.count() == before


@pytest.mark.parametrize("route", WRITING_ROUTES, ids=lambda r: r.name)
def test_the_right_token_passes_the_check(with_token: httpx.Client, route: WritingRoute) -> None:
    # The scheme is case-insensitive (RFC 7235); what the route does next is its own answer.
    for authorization in (f"Bearer {TOKEN}", f"bearer {TOKEN}"):
        status, response, _ = _send(with_token, route, authorization)
        assert status == 0, response.text
        assert response.status_code < 500, response.text
