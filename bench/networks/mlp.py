"""A multi-layer perceptron on the raw 8×8 digits (64 inputs → 128 → 64 → 10)."""
from __future__ import annotations

from torch import nn

from bench.channels import ChannelGroup
from bench.networks.registry import NetworkSpec, register_network, scaled
from kg.namespaces import entity


class MLP(nn.Module):
    def __init__(self, width: float = 1.0, inputs: int = 64, num_classes: int = 10) -> None:
        super().__init__()
        h1, h2 = scaled(128, width), scaled(64, width)
        self.fc1 = nn.Linear(inputs, h1)
        self.fc2 = nn.Linear(h1, h2)
        self.fc3 = nn.Linear(h2, num_classes)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.fc3(self.relu(self.fc2(self.relu(self.fc1(x.flatten(1))))))


def _groups(m: MLP) -> list[ChannelGroup]:
    return [ChannelGroup(m.fc1, None, consumers=[m.fc2]), ChannelGroup(m.fc2, None, consumers=[m.fc3])]


register_network(NetworkSpec(
    name="mlp", label="MLP (64-128-64-10)", family="MLP", task="image classification", task_kind="classification",
    input_shape=(64,), num_outputs=10, dln_iri=entity("dln", "mlp"), build=lambda width=1.0: MLP(width),
    channel_groups=_groups, hyper_parameters={"hidden": [128, 64]},
))
