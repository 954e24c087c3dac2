"""MobileNetV1 with width multiplier α = 0.25, the MLPerf Tiny visual-wake-words reference network.

Input 96×96×3, a stride-2 3×3 stem and thirteen depthwise-separable blocks (Howard et al. 2017),
global average pooling and a 2-way (person / no person) classifier, as in the MLPerf Tiny ``vww``
reference Keras model.
"""
from __future__ import annotations

from torch import nn

from bench.networks.ds_cnn import depthwise_separable_groups
from bench.networks.registry import NetworkSpec, register_network, scaled
from kg.namespaces import entity

# (output channels at α = 1, stride) of the thirteen depthwise-separable blocks.
_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1),
           (512, 1), (512, 1), (1024, 2), (1024, 1)]


class MobileNetV1(nn.Module):
    def __init__(self, alpha: float = 0.25, num_classes: int = 2) -> None:
        super().__init__()
        c = scaled(32, alpha)
        self.conv1 = nn.Conv2d(3, c, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.blocks = nn.ModuleList()
        for out, stride in _BLOCKS:
            o = scaled(out, alpha)
            self.blocks.append(nn.ModuleDict({
                "dw": nn.Conv2d(c, c, 3, stride=stride, padding=1, groups=c, bias=False), "dw_bn": nn.BatchNorm2d(c),
                "pw": nn.Conv2d(c, o, 1, bias=False), "pw_bn": nn.BatchNorm2d(o),
            }))
            c = o
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        for b in self.blocks:
            x = self.relu(b["dw_bn"](b["dw"](x)))
            x = self.relu(b["pw_bn"](b["pw"](x)))
        return self.fc(self.pool(x).flatten(1))


def _groups(m: MobileNetV1):
    return depthwise_separable_groups(m.conv1, m.bn1, [(b["dw"], b["dw_bn"], b["pw"], b["pw_bn"]) for b in m.blocks], m.fc)


SPEC = register_network(NetworkSpec(
    name="mobilenetv1-0.25", label="MobileNetV1 α=0.25 (MLPerf Tiny visual wake words reference)",
    family="MobileNetV1", task="visual wake words", task_kind="classification", input_shape=(3, 96, 96),
    num_outputs=2, dln_iri=entity("dln", "mlperf-tiny", "vww"), build=lambda width=1.0: MobileNetV1(0.25 * width),
    benchmark="vww", channel_groups=_groups, hyper_parameters={"alpha": 0.25},
))
