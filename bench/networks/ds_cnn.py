"""DS-CNN, the MLPerf Tiny keyword-spotting reference network (Zhang et al., "Hello Edge").

Input 49×10×1 (49 MFCC frames × 10 coefficients), a 10×4 stride-2 convolution with 64 filters, four
depthwise-separable blocks of 64 channels, global average pooling and a 12-way classifier — the
reference Keras model of the MLPerf Tiny ``kws`` benchmark rebuilt in PyTorch. TensorFlow's
``padding='same'`` for the strided first convolution is reproduced with explicit asymmetric padding.
"""
from __future__ import annotations

from torch import nn

from bench.channels import ChannelGroup
from bench.networks.registry import NetworkSpec, register_network, scaled
from kg.namespaces import entity


class DSCNN(nn.Module):
    def __init__(self, width: float = 1.0, num_classes: int = 12, blocks: int = 4) -> None:
        super().__init__()
        c = scaled(64, width)
        self.pad = nn.ZeroPad2d((1, 1, 4, 5))  # TF 'same' for a 10×4 kernel, stride 2, on 49×10
        self.conv1 = nn.Conv2d(1, c, (10, 4), stride=2, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.blocks = nn.ModuleList()
        for _ in range(blocks):
            self.blocks.append(nn.ModuleDict({
                "dw": nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False), "dw_bn": nn.BatchNorm2d(c),
                "pw": nn.Conv2d(c, c, 1, bias=False), "pw_bn": nn.BatchNorm2d(c),
            }))
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(0.4)
        self.fc = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(self.pad(x))))
        for b in self.blocks:
            x = self.relu(b["dw_bn"](b["dw"](x)))
            x = self.relu(b["pw_bn"](b["pw"](x)))
        return self.fc(self.dropout(self.pool(x).flatten(1)))


def depthwise_separable_groups(stem: nn.Conv2d, stem_bn: nn.BatchNorm2d,
                               blocks: list[tuple[nn.Conv2d, nn.BatchNorm2d, nn.Conv2d, nn.BatchNorm2d]],
                               head: nn.Linear) -> list[ChannelGroup]:
    """Groups of a stem → (depthwise → pointwise)* → linear head chain: each producer's channels pass
    through the next depthwise convolution into the next pointwise convolution (or the head)."""
    groups = []
    producer, norm = stem, stem_bn
    for dw, dw_bn, pw, pw_bn in blocks:
        groups.append(ChannelGroup(producer, norm, consumers=[pw], passthrough=[(dw, dw_bn)]))
        producer, norm = pw, pw_bn
    groups.append(ChannelGroup(producer, norm, consumers=[head]))
    return groups


def _groups(m: DSCNN) -> list[ChannelGroup]:
    return depthwise_separable_groups(m.conv1, m.bn1, [(b["dw"], b["dw_bn"], b["pw"], b["pw_bn"]) for b in m.blocks], m.fc)


SPEC = register_network(NetworkSpec(
    name="ds-cnn", label="DS-CNN (MLPerf Tiny keyword spotting reference)", family="DS-CNN",
    task="keyword spotting", task_kind="classification", input_shape=(1, 49, 10), num_outputs=12,
    dln_iri=entity("dln", "mlperf-tiny", "kws"), build=lambda width=1.0: DSCNN(width), benchmark="kws",
    channel_groups=_groups, hyper_parameters={"filters": 64, "blocks": 4, "first_kernel": [10, 4]},
))
