"""Structured channel pruning that really shrinks the network.

For every channel group the network declares (:mod:`bench.channels`), the producer's output channels
with the smallest L1 filter norms are removed: the producer, its batch normalisation, any depthwise
convolution the channels pass through, and the consumers' input channels are rebuilt with fewer
channels. The technique then times the network before and after in PyTorch eager mode (batch 1, one
thread, interleaved rounds) and says whether it got faster — a smaller network is not assumed to be a
faster one.
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from bench.channels import ChannelGroup
import copy

from bench.measure import torch_compare_latency_ms
from bench.profile import profile_network
from bench.techniques.registry import Outcome, Param, PipelineState, Technique, register_technique
from kg.namespaces import DLOM


def _take(param: torch.Tensor | None, index: torch.Tensor, dim: int) -> nn.Parameter | None:
    if param is None:
        return None
    return nn.Parameter(param.detach().index_select(dim, index).clone(), requires_grad=param.requires_grad)


def _shrink_out(m: nn.Conv2d | nn.Linear, keep: torch.Tensor) -> None:
    m.weight = _take(m.weight, keep, 0)
    if m.bias is not None:
        m.bias = _take(m.bias, keep, 0)
    if isinstance(m, nn.Conv2d):
        m.out_channels = len(keep)
    else:
        m.out_features = len(keep)


def _shrink_norm(bn: nn.BatchNorm2d | nn.BatchNorm1d | None, keep: torch.Tensor) -> None:
    if bn is None:
        return
    bn.weight = _take(bn.weight, keep, 0)
    bn.bias = _take(bn.bias, keep, 0)
    bn.running_mean = bn.running_mean.index_select(0, keep).clone()
    bn.running_var = bn.running_var.index_select(0, keep).clone()
    bn.num_features = len(keep)


def _shrink_in(m: nn.Conv2d | nn.Linear, keep: torch.Tensor, spatial: int) -> None:
    if isinstance(m, nn.Conv2d):
        m.weight = _take(m.weight, keep, 1)
        m.in_channels = len(keep)
    else:
        # After a flatten each channel contributes ``spatial`` consecutive features.
        idx = (keep.unsqueeze(1) * spatial + torch.arange(spatial).unsqueeze(0)).flatten()
        m.weight = _take(m.weight, idx, 1)
        m.in_features = len(idx)


def shrink_group(group: ChannelGroup, keep: torch.Tensor) -> None:
    """Rebuild every layer of ``group`` keeping only the channels in ``keep`` (sorted indices)."""
    _shrink_out(group.producer, keep)
    _shrink_norm(group.norm, keep)
    for dw, bn in group.passthrough:
        dw.weight = _take(dw.weight, keep, 0)
        if dw.bias is not None:
            dw.bias = _take(dw.bias, keep, 0)
        dw.in_channels = dw.out_channels = dw.groups = len(keep)
        _shrink_norm(bn, keep)
    for c in group.consumers:
        _shrink_in(c, keep, group.spatial)


@register_technique
class StructuredPruning(Technique):
    name = "prune-structured"
    label = "Structured channel pruning"
    family = DLOM.Pruning
    tool = "DLOM bench (L1 filter norm channel pruning)"
    params = {
        "sparsity": Param(float, required=True, minimum=0.0, maximum=1.0, min_exclusive=True, max_exclusive=True,
                          help="fraction of channels removed from each prunable group, 0 < s < 1"),
    }

    @classmethod
    def properties(cls, params: dict[str, Any], state: PipelineState | None):
        return [(DLOM.sparsity, params["sparsity"]), (DLOM.pruningGranularity, "channel (structured, L1 filter norm)")]

    @staticmethod
    def apply_torch(state: PipelineState, params: dict[str, Any]) -> Outcome:
        if state.network.channel_groups is None:
            raise ValueError(f"network {state.network.name} declares no channel groups for structured pruning")
        model = state.model
        before = profile_network(model, state.network.input_shape)
        original = copy.deepcopy(model)
        present = {id(m) for m in model.modules()}
        changes = []
        for g in state.network.channel_groups(model):
            layers = [g.producer, *g.consumers, *(dw for dw, _ in g.passthrough)]
            if not all(id(m) in present for m in layers):
                continue  # an earlier technique replaced one of its layers (e.g. decomposition)
            n = g.channels
            keep_n = max(1, n - int(round(n * params["sparsity"])))
            w = g.producer.weight.detach()
            norms = w.abs().reshape(w.shape[0], -1).sum(dim=1)
            keep = torch.sort(torch.topk(norms, keep_n).indices).values
            shrink_group(g, keep)
            changes.append((n, keep_n))
        if state.keep_zero:
            state.keep_zero.clear()  # masks of an earlier unstructured pruning no longer match the shapes
        after = profile_network(model, state.network.input_shape)
        t_before, t_after = torch_compare_latency_ms([original, model], state.network.input_shape)
        speedup = t_before / t_after
        faster = speedup > 1.05
        state.architecture_changed = True
        verdict = (f"real speed-up ×{speedup:.2f}" if faster
                   else f"no real speed-up (×{speedup:.2f})")
        return Outcome(
            {"channels": [list(c) for c in changes], "parameters_before": before.parameters,
             "parameters_after": after.parameters, "macs_before": before.macs, "macs_after": after.macs,
             "torch_latency_before_ms": round(t_before, 4), "torch_latency_after_ms": round(t_after, 4),
             "speedup": round(speedup, 3), "faster": faster},
            [f"{len(changes)} channel groups shrunk; parameters {before.parameters} → {after.parameters}, "
             f"MACs {before.macs} → {after.macs}; PyTorch eager batch-1 median {t_before:.3f} → {t_after:.3f} ms: {verdict}"])
