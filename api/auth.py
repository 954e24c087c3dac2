"""The one update-token check: every route that writes to the knowledge graph depends on it.

SPARQL Update, the Graph Store Protocol's writes, GraphQL mutations and the REST writes (ratings,
measurements) all ask :func:`check_update_token`, so they answer alike:

* the server has no ``DLOM_UPDATE_TOKEN``: **403** — writes are disabled here, no credentials help;
* no ``Authorization: Bearer <token>`` header (absent, another scheme, or malformed): **401** with
  ``WWW-Authenticate: Bearer realm="dlom"`` — the client must authenticate;
* a bearer token that is not the server's: **403** — authenticated, not allowed.

The comparison is constant-time (:func:`hmac.compare_digest` on the UTF-8 bytes), so the answer's
timing does not reveal how much of a guess was right.

HTTP routes use :func:`require_update_token` as a FastAPI dependency; the refusal is an
:class:`UpdateTokenRefused` that :func:`refused_response` (installed by :func:`api.app.create_app`)
turns into ``{"detail": message, "errors": [{"field": "Authorization", "message": message}]}`` — the
``detail`` shape of the SPARQL endpoint and the ``errors`` shape of the REST routes in one body.
GraphQL answers in its own error channel (HTTP 200, the same message, ``extensions.status``), as
GraphQL clients expect.
"""
from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.params import Depends as DependsMarker
from fastapi.responses import JSONResponse

from api.settings import Settings

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="dlom"'}


class UpdateTokenRefused(Exception):
    """A write refused for its credentials: ``status`` 401 (none given) or 403 (wrong, or writes off)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def headers(self) -> dict[str, str]:
        return dict(CHALLENGE) if self.status == 401 else {}


def check_update_token(settings: Settings, authorization: str | None, writes: str = "updates") -> None:
    """Return if ``authorization`` (the raw header value) carries the server's update token; else
    raise :class:`UpdateTokenRefused` as the module docstring says. ``writes`` names what is refused
    (e.g. "ratings") in the message."""
    expected = settings.update_token
    if not expected:
        raise UpdateTokenRefused(403, f"{writes} are disabled on this server: it has no update token "
                                      "(set DLOM_UPDATE_TOKEN to enable them)")
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise UpdateTokenRefused(401, f"{writes} need the update token: send 'Authorization: Bearer <token>'")
    if not hmac.compare_digest(token.encode("utf-8", "surrogateescape"), expected.encode("utf-8")):
        raise UpdateTokenRefused(403, "the update token is not valid")


def require_update_token(writes: str) -> Callable[[Request], None]:
    """A FastAPI dependency (``dependencies=[Depends(require_update_token("ratings"))]``) that refuses
    the request before its body is read unless it carries the update token."""

    def dependency(request: Request) -> None:
        check_update_token(request.app.state.settings, request.headers.get("authorization"), writes)

    dependency.__name__ = f"require_update_token_for_{writes.replace(' ', '_')}"
    return dependency


def needs_update_token(writes: str) -> DependsMarker:
    """``Depends(require_update_token(writes))``, for a route's ``dependencies=[...]``."""
    return Depends(require_update_token(writes))


async def refused_response(request: Request, exc: Exception) -> JSONResponse:
    """The app's exception handler for :class:`UpdateTokenRefused`."""
    assert isinstance(exc, UpdateTokenRefused)
    return JSONResponse({"detail": exc.message, "errors": [{"field": "Authorization", "message": exc.message}]},
                        status_code=exc.status, headers=exc.headers)
