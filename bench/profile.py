"""Static profile of a network from its code: layers with weights, parameters and multiply-accumulates.

MACs are counted with forward hooks on every convolution and linear layer during one forward pass of
a single input (batch 1): a convolution costs output elements × (input channels / groups) × kernel
area, a linear layer output features × input features. Normalisation, activations, pooling and
additions are not counted (the usual convention, and MLPerf Tiny's).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class NetworkProfile:
    """What the code of a network says about it."""

    layers: int
    parameters: int
    nonzero_parameters: int
    macs: int
    inputs: int
    outputs: int


def count_macs(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """(MACs, output elements) of one inference on a single input of ``input_shape`` (no batch dim)."""
    total = 0

    def conv_hook(m: nn.Conv2d, _inp, out) -> None:
        nonlocal total
        kh, kw = m.kernel_size
        total += out.numel() * (m.in_channels // m.groups) * kh * kw

    def linear_hook(m: nn.Linear, _inp, out) -> None:
        nonlocal total
        total += out.numel() * m.in_features

    handles = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            param = next(model.parameters())
            out = model(torch.zeros((1, *input_shape), dtype=param.dtype, device=param.device))
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return total, int(out.numel())


def profile_network(model: nn.Module, input_shape: tuple[int, ...]) -> NetworkProfile:
    """Layers (convolution and linear modules), parameters, non-zero parameters and MACs of ``model``."""
    macs, outputs = count_macs(model, input_shape)
    layers = sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())
    params = sum(p.numel() for p in model.parameters())
    nonzero = int(sum(int(torch.count_nonzero(p)) for p in model.parameters()))
    inputs = 1
    for d in input_shape:
        inputs *= d
    return NetworkProfile(layers=layers, parameters=params, nonzero_parameters=nonzero, macs=macs,
                          inputs=inputs, outputs=outputs)
