"""A small CNN for 16×16 grey images: two 3×3 convolutions (16, 32 filters) with max pooling and a
10-way linear classifier. Small enough to train in seconds — the network the tests use."""
from __future__ import annotations

from torch import nn

from bench.channels import ChannelGroup
from bench.networks.registry import NetworkSpec, register_network, scaled
from kg.namespaces import entity


class SmallCNN(nn.Module):
    def __init__(self, width: float = 1.0, num_classes: int = 10) -> None:
        super().__init__()
        c1, c2 = scaled(16, width), scaled(32, width)
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c2)
        self.relu = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(c2 * 4 * 4, num_classes)

    def forward(self, x):
        x = self.pool(self.relu(self.bn1(self.conv1(x))))
        x = self.pool(self.relu(self.bn2(self.conv2(x))))
        return self.fc(x.flatten(1))


def _groups(m: SmallCNN) -> list[ChannelGroup]:
    return [ChannelGroup(m.conv1, m.bn1, consumers=[m.conv2]),
            ChannelGroup(m.conv2, m.bn2, consumers=[m.fc], spatial=16)]


register_network(NetworkSpec(
    name="small-cnn", label="Small CNN (2 conv layers, 16×16 input)", family="CNN", task="image classification",
    task_kind="classification", input_shape=(1, 16, 16), num_outputs=10, dln_iri=entity("dln", "small-cnn"),
    build=lambda width=1.0: SmallCNN(width), channel_groups=_groups, hyper_parameters={"filters": [16, 32]},
))
