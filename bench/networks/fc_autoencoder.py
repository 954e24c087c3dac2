"""The fully connected autoencoder, the MLPerf Tiny anomaly-detection reference network (ToyADMOS).

Input 640 (5 frames × 128 log-mel bins), four 128-unit dense layers, an 8-unit bottleneck, four
128-unit dense layers and a 640-unit reconstruction, each hidden layer with batch normalisation and
ReLU, as in the MLPerf Tiny ``ad`` reference Keras model. The anomaly score is the reconstruction
mean squared error; quality is the ROC AUC of that score.
"""
from __future__ import annotations

from torch import nn

from bench.channels import ChannelGroup
from bench.networks.registry import NetworkSpec, register_network, scaled
from kg.namespaces import entity


class FCAutoencoder(nn.Module):
    def __init__(self, width: float = 1.0, inputs: int = 640, hidden: int = 128, bottleneck: int = 8) -> None:
        super().__init__()
        h = scaled(hidden, width)
        sizes = [inputs, h, h, h, h, bottleneck, h, h, h, h]
        self.hidden = nn.ModuleList()
        for a, b in zip(sizes, sizes[1:]):
            self.hidden.append(nn.ModuleDict({"fc": nn.Linear(a, b), "bn": nn.BatchNorm1d(b)}))
        self.out = nn.Linear(h, inputs)
        self.relu = nn.ReLU()

    def forward(self, x):
        x = x.flatten(1)
        for layer in self.hidden:
            x = self.relu(layer["bn"](layer["fc"](x)))
        return self.out(x)


def _groups(m: FCAutoencoder) -> list[ChannelGroup]:
    layers = list(m.hidden)
    consumers = [l["fc"] for l in layers[1:]] + [m.out]
    # The 8-unit bottleneck is the autoencoder's code: it is left at its published size.
    return [ChannelGroup(l["fc"], l["bn"], consumers=[c]) for l, c in zip(layers, consumers) if l["fc"].out_features != 8]


SPEC = register_network(NetworkSpec(
    name="fc-autoencoder", label="FC autoencoder (MLPerf Tiny anomaly detection reference)",
    family="Autoencoder", task="anomaly detection", task_kind="anomaly-detection", input_shape=(640,),
    num_outputs=640, dln_iri=entity("dln", "mlperf-tiny", "ad"), build=lambda width=1.0: FCAutoencoder(width),
    loss="mean squared error", benchmark="ad", channel_groups=_groups,
    hyper_parameters={"hidden": 128, "bottleneck": 8, "layers": 10},
))
