"""Post-training dynamic int8 quantization with onnxruntime.quantization.quantize_dynamic.

Weights are quantized to 8 bits ahead of time; activations are quantized at run time from their
observed range, so no calibration data is needed.
"""
from __future__ import annotations

from typing import Any

from bench.techniques.registry import Outcome, Param, PipelineState, Technique, register_technique
from kg.namespaces import DLOM


@register_technique
class DynamicInt8Quantization(Technique):
    name = "quantize-dynamic"
    label = "Dynamic int8 quantization"
    family = DLOM.Quantization
    tool = "onnxruntime.quantization.quantize_dynamic"
    params = {
        "weight_type": Param(str, default="int8", choices=("int8", "uint8"), help="8-bit weight type"),
        "per_channel": Param(bool, default=False, help="one scale per output channel"),
    }

    @classmethod
    def properties(cls, params: dict[str, Any], state: PipelineState | None):
        return [(DLOM.bitWidth, 8), (DLOM.quantizationScheme, "dynamic")]

    @staticmethod
    def apply_onnx(state: PipelineState, params: dict[str, Any]) -> Outcome:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        assert state.onnx_path is not None
        out = state.onnx_path.with_name(state.onnx_path.stem + "-int8-dynamic.onnx")
        quantize_dynamic(str(state.onnx_path), str(out), per_channel=params["per_channel"],
                         weight_type=QuantType.QInt8 if params["weight_type"] == "int8" else QuantType.QUInt8)
        before, after = state.onnx_path.stat().st_size, out.stat().st_size
        state.onnx_path = out
        return Outcome({"size_before_bytes": before, "size_after_bytes": after},
                       [f"ONNX file {before} → {after} bytes"])
