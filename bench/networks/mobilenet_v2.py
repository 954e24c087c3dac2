"""MobileNetV2 (Sandler et al. 2018), width 1.0, inverted residual blocks with linear bottlenecks,
built for a 96×96×3 input with a 10-way head (the digits task)."""
from __future__ import annotations

from torch import nn

from bench.channels import ChannelGroup
from bench.networks.registry import NetworkSpec, register_network, scaled
from kg.namespaces import entity

# (expansion t, output channels c, repeats n, first stride s) of the published configuration.
_CONFIG = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.expand = nn.Conv2d(cin, hidden, 1, bias=False) if expand != 1 else None
        self.expand_bn = nn.BatchNorm2d(hidden) if expand != 1 else None
        self.dw = nn.Conv2d(hidden, hidden, 3, stride=stride, padding=1, groups=hidden, bias=False)
        self.dw_bn = nn.BatchNorm2d(hidden)
        self.project = nn.Conv2d(hidden, cout, 1, bias=False)
        self.project_bn = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU6()
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = x
        if self.expand is not None:
            y = self.relu(self.expand_bn(self.expand(y)))
        y = self.relu(self.dw_bn(self.dw(y)))
        y = self.project_bn(self.project(y))
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    def __init__(self, width: float = 1.0, num_classes: int = 10) -> None:
        super().__init__()
        c = scaled(32, width)
        self.stem = nn.Sequential(nn.Conv2d(3, c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU6())
        blocks = []
        for t, out, n, s in _CONFIG:
            o = scaled(out, width)
            for i in range(n):
                blocks.append(InvertedResidual(c, o, s if i == 0 else 1, t))
                c = o
        self.blocks = nn.Sequential(*blocks)
        last = scaled(1280, max(1.0, width))
        self.head = nn.Sequential(nn.Conv2d(c, last, 1, bias=False), nn.BatchNorm2d(last), nn.ReLU6())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(last, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.head(self.blocks(self.stem(x)))).flatten(1))


def _groups(m: MobileNetV2) -> list[ChannelGroup]:
    # The expanded (hidden) channels of each block: expand → depthwise → project.
    return [ChannelGroup(b.expand, b.expand_bn, consumers=[b.project], passthrough=[(b.dw, b.dw_bn)])
            for b in m.blocks if b.expand is not None]


register_network(NetworkSpec(
    name="mobilenetv2", label="MobileNetV2 (width 1.0, 96×96 input, 10 classes)", family="MobileNetV2",
    task="image classification", task_kind="classification", input_shape=(3, 96, 96), num_outputs=10,
    dln_iri=entity("dln", "mobilenetv2"), build=lambda width=1.0: MobileNetV2(width), activation="ReLU6",
    channel_groups=_groups, hyper_parameters={"width": 1.0, "input": [3, 96, 96]},
))
