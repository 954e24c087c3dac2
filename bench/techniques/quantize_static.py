"""Post-training static int8 quantization with calibration (onnxruntime.quantization.quantize_static).

Activation ranges are calibrated on ``calibration_samples`` training images (never test images);
the result is a QDQ (or QOperator) int8 model.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from bench.techniques.registry import Outcome, Param, PipelineState, Technique, register_technique
from kg.namespaces import DLOM


@register_technique
class StaticInt8Quantization(Technique):
    name = "quantize-static"
    label = "Static int8 quantization (calibrated)"
    family = DLOM.Quantization
    tool = "onnxruntime.quantization.quantize_static"
    params = {
        "calibration_samples": Param(int, default=128, minimum=1, help="training samples used for calibration"),
        "per_channel": Param(bool, default=True),
        "method": Param(str, default="minmax", choices=("minmax", "entropy", "percentile")),
        "format": Param(str, default="qdq", choices=("qdq", "qoperator")),
    }

    @classmethod
    def properties(cls, params: dict[str, Any], state: PipelineState | None):
        return [(DLOM.bitWidth, 8), (DLOM.quantizationScheme, "static")]

    @staticmethod
    def apply_onnx(state: PipelineState, params: dict[str, Any]) -> Outcome:
        from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                              quantize_static)

        assert state.onnx_path is not None
        rng = np.random.default_rng(state.seed)
        n = min(params["calibration_samples"], len(state.task.x_train))
        samples = state.task.x_train[rng.choice(len(state.task.x_train), size=n, replace=False)]

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self._it = iter(samples[i : i + 1] for i in range(len(samples)))

            def get_next(self) -> dict[str, np.ndarray] | None:
                batch = next(self._it, None)
                return None if batch is None else {"input": batch}

        method = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
                  "percentile": CalibrationMethod.Percentile}[params["method"]]
        out = state.onnx_path.with_name(state.onnx_path.stem + "-int8-static.onnx")
        quantize_static(str(state.onnx_path), str(out), Reader(), per_channel=params["per_channel"],
                        calibrate_method=method,
                        quant_format=QuantFormat.QDQ if params["format"] == "qdq" else QuantFormat.QOperator)
        before, after = state.onnx_path.stat().st_size, out.stat().st_size
        state.onnx_path = out
        return Outcome({"size_before_bytes": before, "size_after_bytes": after, "calibration_samples": n},
                       [f"calibrated on {n} training samples; ONNX file {before} → {after} bytes"])
