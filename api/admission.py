"""Admission control and deadlines for the API paths (``/sparql``, ``/rdf-graphs``, ``/graphql``, ``/api/``).

Per client — the TCP peer address; a proxy in front makes every client one, so give it its own
limits there (``X-Forwarded-For`` is not trusted: any client can write it) — two limits, as public
SPARQL endpoints have:

* **concurrency**: at most ``Settings.client_max_concurrent`` requests at once;
* **time budget**: at most ``Settings.client_budget_s`` seconds of request time (wall clock, from
  admission to the end of the response) within the last 60 seconds.

A request over either gets **429** at once, before its body is read, with ``Retry-After`` (seconds:
1 for concurrency; for the budget, when enough of the last minute's time has aged out) and a JSON
``{"detail", "errors"}`` saying which limit. A limit of 0 is off. What one client spends never slows
another: the query workers' bound (``Settings.query_workers``) is shared, so the per-client limit
should stay below it.

**Deadline** of GraphQL and REST: a response not started within ``Settings.query_timeout_s`` is
answered **503** with ``Retry-After`` (the SPARQL and Graph Store routes bound themselves, and stop
their queries: :mod:`api.sparql_endpoint`). The work behind it is abandoned — store reads there are
short and bounded (pages of at most 100, keyed lookups), so it ends soon after; a write it carried
may still land, and the answer says so.
"""
from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.settings import Settings

WINDOW_S = 60.0
ADMITTED_PATHS = ("/sparql", "/rdf-graphs", "/graphql", "/api/")
SELF_BOUNDED_PATHS = ("/sparql", "/rdf-graphs")  # their routes answer at the deadline themselves
_MAX_CLIENTS = 10_000  # clients remembered at once: bounds the ledger's memory under address scans


@dataclass
class _Client:
    in_flight: int = 0
    spent: deque[tuple[float, float]] = field(default_factory=deque)  # (ended at, seconds)

    def spent_within(self, now: float) -> float:
        while self.spent and self.spent[0][0] <= now - WINDOW_S:
            self.spent.popleft()
        return sum(seconds for _, seconds in self.spent)


@dataclass(frozen=True)
class Refusal:
    limit: str
    message: str
    retry_after_s: int


_REFUSAL_BODY = {"type": "object", "required": ["detail", "errors"], "properties": {
    "detail": {"type": "string"},
    "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"], "properties": {
        "field": {"type": "string"}, "message": {"type": "string"}}}}}}
_RETRY_AFTER = {"Retry-After": {"description": "seconds to wait before asking again", "schema": {"type": "integer"}}}


def openapi_responses(path: str) -> dict[str, dict]:
    """The responses this middleware can give on an operation at ``path`` (an OpenAPI path template),
    in OpenAPI form: 429 on every admitted path; 503 at the deadline on those not self-bounded (the
    SPARQL and Graph Store routes document their own 503). Empty for a path it does not admit."""
    if not path.startswith(ADMITTED_PATHS):
        return {}
    content = {"application/json": {"schema": _REFUSAL_BODY}}
    out = {"429": {"description": "Over this client's concurrency limit or time budget (which one, in the "
                                  "body); ask again after Retry-After", "headers": _RETRY_AFTER, "content": content}}
    if not path.startswith(SELF_BOUNDED_PATHS):
        out["503"] = {"description": "No response within the time limit (DLOM_QUERY_TIMEOUT_S); the request was "
                                     "abandoned", "headers": _RETRY_AFTER, "content": content}
    return out


class ClientLedger:
    """What each client has running and has spent in the last minute (thread-safe)."""

    def __init__(self) -> None:
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._lock = threading.Lock()

    def admit(self, client: str, settings: Settings, now: float | None = None) -> Refusal | None:
        """Count the request in, or say which limit refuses it."""
        now = time.monotonic() if now is None else now
        with self._lock:
            state = self._clients.get(client)
            if state is None:
                state = self._clients[client] = _Client()
                while len(self._clients) > _MAX_CLIENTS:
                    oldest, old = next(iter(self._clients.items()))
                    if old.in_flight:
                        break
                    del self._clients[oldest]
            self._clients.move_to_end(client)
            limit = settings.client_max_concurrent
            if limit > 0 and state.in_flight >= limit:
                return Refusal("concurrency", f"this client already has {state.in_flight} requests running; at most "
                                              f"{limit} at once (DLOM_CLIENT_MAX_CONCURRENT)", 1)
            budget = settings.client_budget_s
            spent = state.spent_within(now)
            if budget > 0 and spent >= budget:
                # When enough of the window's oldest time has aged out to bring the sum under the budget.
                over, wait = spent - budget, 0.0
                for ended, seconds in state.spent:
                    over -= seconds
                    wait = ended + WINDOW_S - now
                    if over < 0:
                        break
                return Refusal("time budget", f"this client used {spent:.1f} s of request time in the last "
                                              f"{WINDOW_S:g} s; the budget is {budget:g} s per minute (DLOM_CLIENT_BUDGET_S)",
                               max(1, math.ceil(wait)))
            state.in_flight += 1
            return None

    def release(self, client: str, seconds: float, now: float | None = None) -> None:
        """Count a finished request out, charging its time."""
        now = time.monotonic() if now is None else now
        with self._lock:
            state = self._clients.get(client)
            if state is None:
                return
            state.in_flight = max(0, state.in_flight - 1)
            state.spent.append((now, seconds))
            state.spent_within(now)
            if not state.in_flight and not state.spent:
                del self._clients[client]


async def _answer(send: Send, status: int, message: str, headers: dict[str, str], field_name: str) -> None:
    body = json.dumps({"detail": message, "errors": [{"field": field_name, "message": message}]}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class Admission:
    """ASGI middleware applying the module's limits (installed outermost by :func:`api.app.create_app`)."""

    def __init__(self, app: ASGIApp, settings_of: FastAPI) -> None:
        self.app = app
        self.owner = settings_of
        self.ledger = ClientLedger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(ADMITTED_PATHS):
            await self.app(scope, receive, send)
            return
        settings: Settings = self.owner.state.settings
        client = (scope.get("client") or ("unknown", 0))[0]
        refusal = self.ledger.admit(client, settings)
        if refusal is not None:
            await _answer(send, 429, refusal.message, {"Retry-After": str(refusal.retry_after_s)}, "(client)")
            return
        started = time.monotonic()
        try:
            if path.startswith(SELF_BOUNDED_PATHS):
                await self.app(scope, receive, send)
            else:
                await self._within_deadline(scope, receive, send, settings.query_timeout_s)
        finally:
            self.ledger.release(client, time.monotonic() - started)

    async def _within_deadline(self, scope: Scope, receive: Receive, send: Send, limit_s: float) -> None:
        response_started = asyncio.Event()
        abandoned = False

        async def guarded_send(message: Message) -> None:
            if abandoned:
                return  # the client already has its 503
            if message["type"] == "http.response.start":
                response_started.set()
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        waiter = asyncio.ensure_future(response_started.wait())
        try:
            await asyncio.wait({task, waiter}, timeout=limit_s, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if task.done() or response_started.is_set():
            await task  # finished, or streaming its body: no deadline on the body
            return
        abandoned = True
        task.cancel()
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # its end is nobody's answer
        write = scope.get("method") not in ("GET", "HEAD")
        message = (f"the request exceeded the {limit_s:g} s time limit (DLOM_QUERY_TIMEOUT_S) and was abandoned"
                   + ("; a write it carried may still complete" if write else ""))
        await _answer(send, 503, message, {"Retry-After": "5"}, "(server)")
