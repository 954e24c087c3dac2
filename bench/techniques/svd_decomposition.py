"""Low-rank decomposition of linear layers by truncated SVD.

A linear layer W (out × in) becomes two: W ≈ (U_r √S_r)(√S_r V_rᵀ), i.e. Linear(in → r, no bias)
followed by Linear(r → out, with the original bias). Layers where rank r would not reduce the
parameter count (r·(in + out) ≥ in·out) are left alone and listed.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from bench.errors import SpecError
from bench.techniques.registry import Outcome, Param, PipelineState, Technique, register_technique
from kg.namespaces import DLOM


def chosen_rank(full: int, params: dict[str, Any]) -> int:
    """The rank to keep for a matrix of full rank ``full`` (an absolute rank is capped at ``full``)."""
    if params.get("rank") is not None:
        return min(params["rank"], full)
    return max(1, int(round(full * params["rank_ratio"])))


class LowRankTechnique(Technique):
    """A decomposition set by exactly one of ``rank`` and ``rank_ratio`` (see :func:`chosen_rank`)."""

    @classmethod
    def check_combination(cls, params: dict[str, Any], where: str, file: str) -> None:
        if (params.get("rank") is None) == (params.get("rank_ratio") is None):
            raise SpecError(file, "give exactly one of rank and rank_ratio", field_name=f"{where}.rank")

    @classmethod
    def properties(cls, params: dict[str, Any], state: PipelineState | None):
        """The graph properties of the rank setting: the fixed rank, or the rank ratio."""
        return [(DLOM.rank, params["rank"])] if params["rank"] is not None else [(DLOM.rankRatio, params["rank_ratio"])]


@register_technique
class LinearSVD(LowRankTechnique):
    name = "decompose-svd"
    label = "Low-rank SVD of linear layers"
    family = DLOM.TensorDecomposition
    tool = "torch.linalg.svd"
    params = {
        "rank": Param(int, minimum=1, nullable=True, help="rank kept in every decomposed layer"),
        "rank_ratio": Param(float, minimum=0.0, min_exclusive=True, maximum=1.0, nullable=True,
                            help="rank as a fraction of each layer's full rank"),
    }

    @staticmethod
    def apply_torch(state: PipelineState, params: dict[str, Any]) -> Outcome:
        done, skipped = [], []
        for name, m in list(state.model.named_modules()):
            if not isinstance(m, nn.Linear):
                continue
            w = m.weight.detach()
            r = chosen_rank(min(w.shape), params)
            if r * (m.in_features + m.out_features) >= m.in_features * m.out_features:
                skipped.append(name)
                continue
            u, s, vh = torch.linalg.svd(w, full_matrices=False)
            root = s[:r].sqrt()
            first = nn.Linear(m.in_features, r, bias=False)
            second = nn.Linear(r, m.out_features, bias=m.bias is not None)
            with torch.no_grad():
                first.weight.copy_(root.unsqueeze(1) * vh[:r])
                second.weight.copy_(u[:, :r] * root.unsqueeze(0))
                if m.bias is not None:
                    second.bias.copy_(m.bias)
            state.model.set_submodule(name, nn.Sequential(first, second))
            done.append({"layer": name, "shape": list(w.shape), "rank": r})
        state.architecture_changed = state.architecture_changed or bool(done)
        ranks = ", ".join(f"{d['layer']} rank {d['rank']}" for d in done) or "none"
        return Outcome({"decomposed": done, "skipped": skipped},
                       [f"{len(done)} linear layer(s) factorised ({ranks}); {len(skipped)} left whole (no parameter saving)"])
