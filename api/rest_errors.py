"""How the REST routes answer a client's mistake: ``{"errors": [{field, message}]}`` with a 4xx status.
(The update-token check every writing route makes first is :mod:`api.auth`.)"""
from __future__ import annotations

from fastapi.responses import JSONResponse

from decision.requirements import FieldError


def error_response(status: int, errors: list[FieldError] | list[dict[str, str]]) -> JSONResponse:
    """The error list as a JSON response with ``status``."""
    body = [e.model_dump() if isinstance(e, FieldError) else e for e in errors]
    return JSONResponse(status_code=status, content={"errors": body})
