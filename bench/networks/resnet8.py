"""ResNet-8, the MLPerf Tiny image-classification reference network (CIFAR-10, 32×32×3).

A 16-filter 3×3 stem and three residual stacks of one basic block each (16, 32, 64 filters; the last
two stride 2 with a 1×1 projection shortcut), global average pooling and a 10-way classifier, as in
the MLPerf Tiny ``ic`` reference Keras model.
"""
from __future__ import annotations

from torch import nn

from bench.channels import ChannelGroup
from bench.networks.registry import NetworkSpec, register_network, scaled
from kg.namespaces import entity


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with a residual connection (projection when the shape changes)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


def block_groups(blocks) -> list[ChannelGroup]:
    """The block-internal channels of residual blocks (conv1 → bn1 → conv2), the ones structured pruning
    can shrink without touching the residual additions."""
    return [ChannelGroup(b.conv1, b.bn1, consumers=[b.conv2]) for b in blocks]


class ResNet8(nn.Module):
    def __init__(self, width: float = 1.0, num_classes: int = 10) -> None:
        super().__init__()
        c1, c2, c3 = scaled(16, width), scaled(32, width), scaled(64, width)
        self.conv1 = nn.Conv2d(3, c1, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c1)
        self.relu = nn.ReLU()
        self.layers = nn.Sequential(BasicBlock(c1, c1, 1), BasicBlock(c1, c2, 2), BasicBlock(c2, c3, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c3, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.layers(self.relu(self.bn1(self.conv1(x))))).flatten(1))


SPEC = register_network(NetworkSpec(
    name="resnet-8", label="ResNet-8 (MLPerf Tiny image classification reference)", family="ResNet",
    task="image classification", task_kind="classification", input_shape=(3, 32, 32), num_outputs=10,
    dln_iri=entity("dln", "mlperf-tiny", "ic"), build=lambda width=1.0: ResNet8(width), benchmark="ic",
    channel_groups=lambda m: block_groups(list(m.layers)), hyper_parameters={"filters": [16, 32, 64]},
))
