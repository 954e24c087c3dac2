"""Low-rank decomposition of convolutions: Tucker-2 (HOSVD) or SVD of the reshaped kernel.

Tucker-2 factorises a k×k convolution W (C_out × C_in × k × k) along its two channel modes:
a 1×1 convolution C_in → R_in, a k×k core convolution R_in → R_out (original stride and padding) and
a 1×1 convolution R_out → C_out with the original bias (Kim et al. 2016). The factors are the leading
left singular vectors of the mode-0 and mode-1 unfoldings. 1×1 convolutions, and any layer when
``method: svd``, use the SVD of the kernel reshaped to C_out × (C_in·k·k): a k×k convolution
C_in → R followed by a 1×1 convolution R → C_out. Depthwise convolutions are left alone, and so is
any layer where the factorisation would not reduce the parameter count.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from bench.techniques.registry import Outcome, Param, PipelineState, register_technique
from bench.techniques.svd_decomposition import LowRankTechnique, chosen_rank
from kg.namespaces import DLOM


def _conv(cin: int, cout: int, like: nn.Conv2d | None = None, bias: bool = False) -> nn.Conv2d:
    if like is None:
        return nn.Conv2d(cin, cout, 1, bias=bias)
    return nn.Conv2d(cin, cout, like.kernel_size, stride=like.stride, padding=like.padding,
                     dilation=like.dilation, bias=bias)


def tucker2(m: nn.Conv2d, r_in: int, r_out: int) -> nn.Sequential:
    """The Tucker-2 factorisation of ``m`` with channel ranks (r_in, r_out)."""
    w = m.weight.detach()
    cout, cin = w.shape[:2]
    u_out = torch.linalg.svd(w.reshape(cout, -1), full_matrices=False)[0][:, :r_out]           # C_out × R_out
    u_in = torch.linalg.svd(w.transpose(0, 1).reshape(cin, -1), full_matrices=False)[0][:, :r_in]  # C_in × R_in
    core = torch.einsum("oikl,or,is->rskl", w, u_out, u_in)                                  # R_out × R_in × k × k
    first, middle, last = _conv(cin, r_in), _conv(r_in, r_out, like=m), _conv(r_out, cout, bias=m.bias is not None)
    with torch.no_grad():
        first.weight.copy_(u_in.t().reshape(r_in, cin, 1, 1))
        middle.weight.copy_(core)
        last.weight.copy_(u_out.reshape(cout, r_out, 1, 1))
        if m.bias is not None:
            last.bias.copy_(m.bias)
    return nn.Sequential(first, middle, last)


def kernel_svd(m: nn.Conv2d, r: int) -> nn.Sequential:
    """W reshaped to C_out × (C_in·k·k) ≈ U_r S_r V_rᵀ: a k×k convolution to r channels, then 1×1."""
    w = m.weight.detach()
    cout = w.shape[0]
    u, s, vh = torch.linalg.svd(w.reshape(cout, -1), full_matrices=False)
    root = s[:r].sqrt()
    first, last = _conv(m.in_channels, r, like=m), _conv(r, cout, bias=m.bias is not None)
    with torch.no_grad():
        first.weight.copy_((root.unsqueeze(1) * vh[:r]).reshape(r, *w.shape[1:]))
        last.weight.copy_((u[:, :r] * root.unsqueeze(0)).reshape(cout, r, 1, 1))
        if m.bias is not None:
            last.bias.copy_(m.bias)
    return nn.Sequential(first, last)


@register_technique
class ConvDecomposition(LowRankTechnique):
    name = "decompose-conv"
    label = "Low-rank decomposition of convolutions"
    family = DLOM.TensorDecomposition
    tool = "torch.linalg.svd (Tucker-2 / kernel SVD)"
    params = {
        "rank": Param(int, minimum=1, nullable=True, help="rank kept in every decomposed layer (each channel mode)"),
        "rank_ratio": Param(float, minimum=0.0, min_exclusive=True, maximum=1.0, nullable=True,
                            help="rank as a fraction of each channel dimension"),
        "method": Param(str, default="tucker2", choices=("tucker2", "svd")),
    }

    @staticmethod
    def apply_torch(state: PipelineState, params: dict[str, Any]) -> Outcome:
        done, skipped = [], []
        for name, m in list(state.model.named_modules()):
            if not isinstance(m, nn.Conv2d) or m.groups != 1:
                continue
            cout, cin, kh, kw = m.weight.shape
            original = cout * cin * kh * kw
            if params["method"] == "tucker2" and kh * kw > 1:
                r_in, r_out = chosen_rank(cin, params), chosen_rank(cout, params)
                cost = cin * r_in + r_in * r_out * kh * kw + r_out * cout
                if cost >= original:
                    skipped.append(name)
                    continue
                state.model.set_submodule(name, tucker2(m, r_in, r_out))
                done.append({"layer": name, "method": "tucker2", "ranks": [r_in, r_out]})
            else:
                r = chosen_rank(min(cout, cin * kh * kw), params)
                if r * (cin * kh * kw + cout) >= original:
                    skipped.append(name)
                    continue
                state.model.set_submodule(name, kernel_svd(m, r))
                done.append({"layer": name, "method": "svd", "ranks": [r]})
        state.architecture_changed = state.architecture_changed or bool(done)
        return Outcome({"decomposed": done, "skipped": skipped},
                       [f"{len(done)} convolution(s) factorised; {len(skipped)} left whole (no parameter saving)"])
