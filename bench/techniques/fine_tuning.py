"""Fine-tuning after compression: a few more epochs on the training set (Adam), keeping pruned
weights at zero."""
from __future__ import annotations

from typing import Any

from bench.techniques.registry import Outcome, Param, PipelineState, Technique, register_technique
from bench.techniques.unstructured_pruning import reapply_masks
from bench.training import evaluate, torch_predict, train
from kg.namespaces import DLOM


@register_technique
class FineTuning(Technique):
    name = "fine-tune"
    label = "Fine-tuning"
    family = DLOM.FineTuning
    tool = "PyTorch (Adam)"
    params = {
        "epochs": Param(int, default=2, minimum=1),
        "learning_rate": Param(float, default=1e-3, minimum=0.0, min_exclusive=True, maximum=1.0),
    }

    @classmethod
    def properties(cls, params: dict[str, Any], state: PipelineState | None):
        return [(DLOM.epochs, params["epochs"]), (DLOM.learningRate, params["learning_rate"])]

    @staticmethod
    def apply_torch(state: PipelineState, params: dict[str, Any]) -> Outcome:
        before = evaluate(torch_predict(state.model), state.task)
        masks = state.keep_zero
        train(state.model, state.task, params["epochs"], params["learning_rate"], seed=state.seed + 1000,
              after_step=(lambda m: reapply_masks(m, masks)) if masks else None)
        after = evaluate(torch_predict(state.model), state.task)
        return Outcome({"quality_before": round(before, 6), "quality_after": round(after, 6)},
                       [f"test quality {before:.4f} → {after:.4f} after {params['epochs']} epoch(s)"])
