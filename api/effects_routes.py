"""``GET /api/effects`` — the measured effect of each precision against float
(:func:`decision.measured_effects.measured_effects`): per precision, the distribution (n, median,
quartiles, extremes) of the latency ratio, the memory ratio and the accuracy change on the same network,
component, device, runtime and release. Optional filters: ``runtime``, ``form_factor``, ``precision``
(repeatable); a value the graph has no measured float baseline for is a 422 naming the known values.
``GET /api/effects/filters`` lists those values
(:func:`decision.measured_effects.effect_filter_values`), for a client's filter choices. The routes
translate HTTP to the library calls and nothing else.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from api.rest_errors import ErrorList, error_response
from decision.measured_effects import FLOAT, PAIRING, effect_filter_values, measured_effects

router = APIRouter()


@router.get("/api/effects/filters", tags=["REST"], summary="The values GET /api/effects' filters can take")
def effect_filters(request: Request) -> dict[str, list[str]]:
    """The runtimes and device form factors with a measured float baseline, and the precisions measured."""
    return effect_filter_values(request.app.state.store).as_dict()


@router.get("/api/effects", tags=["REST"], summary="Measured effects of quantization precisions against float",
            responses={422: {"model": ErrorList, "description": "a filter value the graph has no measurement for"}})
def effects(request: Request,
            runtime: str | None = Query(None, description="only pairs on this runtime, e.g. tflite, qnn_dlc, onnx"),
            form_factor: str | None = Query(None, description="only pairs on devices of this form factor, e.g. IoT"),
            precision: list[str] | None = Query(None, description="only these precisions, e.g. w8a8")) -> Any:
    errors = effect_filter_values(request.app.state.store).errors(runtime, form_factor, precision)
    if errors:
        return error_response(422, errors)
    result = measured_effects(request.app.state.store, runtime=runtime, form_factor=form_factor, precisions=precision)
    return {"baseline": FLOAT, "pairing": list(PAIRING), "effects": [e.as_dict() for e in result]}
