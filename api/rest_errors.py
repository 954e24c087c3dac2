"""How the REST routes answer a client's mistake: ``{"errors": [{field, message}]}`` with a 4xx status,
and the update-token check that every writing route makes first."""
from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.responses import JSONResponse

from decision.requirements import FieldError


def error_response(status: int, errors: list[FieldError] | list[dict[str, str]]) -> JSONResponse:
    """The error list as a JSON response with ``status``."""
    body = [e.model_dump() if isinstance(e, FieldError) else e for e in errors]
    return JSONResponse(status_code=status, content={"errors": body})


def update_token_problem(request: Request, writes: str, purpose: str | None = None) -> JSONResponse | None:
    """None when the request carries the server's update token as ``Authorization: Bearer <token>``;
    else the answer: 403 when the server has no token (``writes`` — e.g. "ratings" — are disabled),
    401 with a Bearer challenge when the token is missing or wrong (needed ``to <purpose>``)."""
    expected = request.app.state.settings.update_token
    if not expected:
        return error_response(403, [{"field": "Authorization", "message": f"{writes} are disabled on this server: "
                                                                          "it has no update token (set DLOM_UPDATE_TOKEN)"}])
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        needed = "a valid 'Bearer <token>' is required" + (f" to {purpose}" if purpose else "")
        response = error_response(401, [{"field": "Authorization", "message": needed}])
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return None
