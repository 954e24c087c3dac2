"""Half precision (fp16) weights and activations.

For onnxruntime the ONNX graph is converted with onnxruntime.transformers.float16 (inputs and
outputs stay float32); for PyTorch eager the module is cast with ``.half()``. Whether the runtime
actually has fp16 kernels for every operator shows when the session is created: if it does not, the
run fails with that reason rather than silently measuring something else.
"""
from __future__ import annotations

from typing import Any

from bench.techniques.registry import Outcome, PipelineState, Technique, register_technique
from kg.namespaces import DLOM


@register_technique
class HalfPrecision(Technique):
    name = "fp16"
    label = "fp16 conversion"
    family = DLOM.Quantization
    tool = "onnxruntime.transformers.float16 / torch.Tensor.half"
    params = {}

    @classmethod
    def properties(cls, params: dict[str, Any], state: PipelineState | None):
        return [(DLOM.bitWidth, 16), (DLOM.quantizationScheme, "fp16")]

    @staticmethod
    def apply_torch(state: PipelineState, params: dict[str, Any]) -> Outcome:
        state.model = state.model.half()
        return Outcome({"dtype": "float16"}, ["PyTorch module cast to float16"])

    @staticmethod
    def apply_onnx(state: PipelineState, params: dict[str, Any]) -> Outcome:
        import onnx
        from onnxruntime.transformers.float16 import convert_float_to_float16

        assert state.onnx_path is not None
        out = state.onnx_path.with_name(state.onnx_path.stem + "-fp16.onnx")
        onnx.save(convert_float_to_float16(onnx.load(str(state.onnx_path)), keep_io_types=True), str(out))
        before, after = state.onnx_path.stat().st_size, out.stat().st_size
        state.onnx_path = out
        return Outcome({"size_before_bytes": before, "size_after_bytes": after},
                       [f"ONNX graph converted to float16 (float32 inputs/outputs); {before} → {after} bytes"])
