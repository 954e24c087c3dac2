"""Unstructured magnitude pruning with torch.nn.utils.prune, made permanent.

The smallest-magnitude weights of every convolution and linear layer are set to zero — per layer
(each layer reaches the sparsity) or globally (the sparsity holds over all of them together) — and
``prune.remove`` folds the masks into the weights. The masks are kept so that later fine-tuning keeps
the pruned weights at zero. Dense kernels do not skip zeros: expect a smaller compressed file, not
a faster model.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils import prune

from bench.techniques.registry import Outcome, Param, PipelineState, Technique, register_technique
from kg.namespaces import DLOM


def prunable_weights(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every convolution and linear layer."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


@register_technique
class UnstructuredPruning(Technique):
    name = "prune-unstructured"
    label = "Unstructured magnitude pruning"
    family = DLOM.Pruning
    tool = "torch.nn.utils.prune"
    params = {
        "sparsity": Param(float, required=True, minimum=0.0, maximum=1.0, max_exclusive=True,
                          help="fraction of weights set to zero, 0 ≤ s < 1"),
        "scope": Param(str, default="layer", choices=("layer", "global")),
    }

    @classmethod
    def properties(cls, params: dict[str, Any], state: PipelineState | None):
        return [(DLOM.sparsity, params["sparsity"]), (DLOM.pruningGranularity, f"unstructured ({params['scope']} L1 magnitude)")]

    @staticmethod
    def apply_torch(state: PipelineState, params: dict[str, Any]) -> Outcome:
        layers = prunable_weights(state.model)
        s = params["sparsity"]
        if params["scope"] == "global":
            prune.global_unstructured([(m, "weight") for _, m in layers], pruning_method=prune.L1Unstructured, amount=s)
        else:
            for _, m in layers:
                prune.l1_unstructured(m, "weight", amount=s)
        zeros = total = 0
        for name, m in layers:
            prune.remove(m, "weight")  # permanent: the zeros are now in the weight tensor itself
            mask = m.weight.detach() != 0
            state.keep_zero[f"{name}.weight"] = mask
            zeros += int((~mask).sum())
            total += mask.numel()
        achieved = zeros / total
        return Outcome({"achieved_sparsity": round(achieved, 6), "pruned_weights": zeros, "prunable_weights": total},
                       [f"{zeros} of {total} conv/linear weights are zero (sparsity {achieved:.4f})"])


def reapply_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    """Zero the pruned weights again (after an optimiser step)."""
    if not masks:
        return
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, mask in masks.items():
            p = params.get(name)
            if p is not None and p.shape == mask.shape:
                p.mul_(mask.to(p.dtype))
