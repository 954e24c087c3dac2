"""ResNet-18 and ResNet-50 (He et al. 2016), the ImageNet topology (7×7 stride-2 stem, max pooling,
four stages) with a 10-way head, built for a 64×64×3 input so they can be trained on the digits task
on a CPU. Their MACs are those of a 64×64 input, not the ImageNet 224×224 figures.
"""
from __future__ import annotations

from torch import nn

from bench.channels import ChannelGroup
from bench.networks.registry import NetworkSpec, register_network, scaled
from bench.networks.resnet8 import BasicBlock, block_groups
from kg.namespaces import entity


class Bottleneck(nn.Module):
    """1×1 reduce → 3×3 → 1×1 expand (×4) with a residual connection."""

    def __init__(self, cin: int, mid: int, stride: int) -> None:
        super().__init__()
        cout = mid * 4
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        return self.relu(self.bn3(self.conv3(y)) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, depth: int, width: float = 1.0, num_classes: int = 10) -> None:
        super().__init__()
        layers = {18: [2, 2, 2, 2], 50: [3, 4, 6, 3]}[depth]
        bottleneck = depth >= 50
        c = scaled(64, width)
        self.stem = nn.Sequential(nn.Conv2d(3, c, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                                  nn.MaxPool2d(3, stride=2, padding=1))
        blocks: list[nn.Module] = []
        for stage, n in enumerate(layers):
            mid = scaled(64 * 2 ** stage, width)
            for i in range(n):
                stride = 2 if (i == 0 and stage > 0) else 1
                if bottleneck:
                    blocks.append(Bottleneck(c, mid, stride))
                    c = mid * 4
                else:
                    blocks.append(BasicBlock(c, mid, stride))
                    c = mid
        self.blocks = nn.Sequential(*blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.fc(self.pool(self.blocks(self.stem(x))).flatten(1))


def _groups(m: ResNet) -> list[ChannelGroup]:
    out = []
    for b in m.blocks:
        if isinstance(b, Bottleneck):
            out += [ChannelGroup(b.conv1, b.bn1, consumers=[b.conv2]), ChannelGroup(b.conv2, b.bn2, consumers=[b.conv3])]
        else:
            out += block_groups([b])
    return out


for _depth in (18, 50):
    register_network(NetworkSpec(
        name=f"resnet-{_depth}", label=f"ResNet-{_depth} (ImageNet topology, 64×64 input, 10 classes)",
        family="ResNet", task="image classification", task_kind="classification", input_shape=(3, 64, 64),
        num_outputs=10, dln_iri=entity("dln", f"resnet-{_depth}"),
        build=lambda width=1.0, d=_depth: ResNet(d, width), channel_groups=_groups,
        hyper_parameters={"depth": _depth, "input": [3, 64, 64]},
    ))
