"""``GET /api/effects`` — the measured effect of each precision against float
(:func:`decision.measured_effects.measured_effects`): per precision, the distribution (n, median,
quartiles, extremes) of the latency ratio, the memory ratio and the accuracy change on the same network,
component, device, runtime and release. Optional filters: ``runtime``, ``form_factor``, ``precision``
(repeatable). The route translates HTTP to the library call and nothing else.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from decision.measured_effects import FLOAT, PAIRING, measured_effects

router = APIRouter()


@router.get("/api/effects", tags=["REST"], summary="Measured effects of quantization precisions against float")
def effects(request: Request,
            runtime: str | None = Query(None, description="only pairs on this runtime, e.g. tflite, qnn_dlc, onnx"),
            form_factor: str | None = Query(None, description="only pairs on devices of this form factor, e.g. IoT"),
            precision: list[str] | None = Query(None, description="only these precisions, e.g. w8a8")) -> dict[str, Any]:
    result = measured_effects(request.app.state.store, runtime=runtime, form_factor=form_factor, precisions=precision)
    return {"baseline": FLOAT, "pairing": list(PAIRING), "effects": [e.as_dict() for e in result]}
