"""How the REST routes answer a client's mistake: ``{"errors": [{field, message}]}`` with a 4xx status.
(The update-token check every writing route makes first is :mod:`api.auth`.)

:class:`FieldErrorRoute` is the route class of the REST routers: a request that does not validate —
a body that is not JSON at all (malformed, or bytes that are not text), a field of the wrong
type or range, a bad query parameter — is answered 422 with :class:`ErrorList`, the field as a dotted
path inside the body or query. :func:`error_response` is how a route answers the mistakes it finds
itself, in the same shape.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from kg.errors import FieldError


class ErrorList(BaseModel):
    """The body of a REST route's 4xx: each problem with the field it concerns."""

    errors: list[FieldError]


def error_response(status: int, errors: list[FieldError] | list[dict[str, str]]) -> JSONResponse:
    """The error list as a JSON response with ``status``."""
    body = [dataclasses.asdict(e) if isinstance(e, FieldError) else e for e in errors]
    return JSONResponse(status_code=status, content={"errors": body})


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """FastAPI's validation errors as ``{field, message}``: the 'body'/'query' prefix of the location
    dropped, pydantic's 'Value error, ' prefix too."""
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ())]
        if loc and loc[0] in ("body", "query"):
            loc = loc[1:]
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        errors.append({"field": ".".join(loc) or "(body)", "message": msg})
    return errors


class FieldErrorRoute(APIRoute):
    """Reports request-validation failures as ``{"errors": [{"field", "message"}]}`` (422).

    FastAPI itself answers a JSON body whose bytes are not text (not UTF-8, or the UTF-16/32 its BOM
    announces) with a bare 400 ``{"detail": "There was an error parsing the body"}`` — the decoder
    fails before the JSON parser can; here it is the same 422 as malformed JSON, on the field
    ``(body)``, saying where the bytes stop being text."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return error_response(422, validation_errors(exc))
            except HTTPException as exc:
                cause = exc.__cause__
                if exc.status_code == 400 and isinstance(cause, UnicodeDecodeError):
                    return error_response(422, [{"field": "(body)", "message": "the body is not JSON: its bytes "
                                                 f"are not {cause.encoding} text ({cause.reason} at byte {cause.start})"}])
                raise

        return handle
