"""Channel groups: which layers share a channel dimension, so structured pruning can shrink them together.

A group is a *producer* (a convolution or linear layer whose output channels are pruned), its
normalisation, any depthwise convolutions the channels pass through unchanged, and the *consumers*
that read those channels as input. Each network file lists its groups; residual additions are never
pruned across (only block-internal channels are grouped), which keeps the rebuilt network valid.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn


@dataclass
class ChannelGroup:
    """Layers tied to one channel dimension.

    ``spatial`` is the number of features each channel contributes to a linear consumer after a
    flatten (1 after global pooling).
    """

    producer: nn.Conv2d | nn.Linear
    norm: nn.BatchNorm2d | nn.BatchNorm1d | None
    consumers: list[nn.Conv2d | nn.Linear]
    passthrough: list[tuple[nn.Conv2d, nn.BatchNorm2d | None]] = field(default_factory=list)
    spatial: int = 1

    @property
    def channels(self) -> int:
        p = self.producer
        return p.out_channels if isinstance(p, nn.Conv2d) else p.out_features
