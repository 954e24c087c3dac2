"""The network registry: shapes, MAC counting, and the MLPerf Tiny DLN IRIs."""
from __future__ import annotations

import pytest
import torch

from bench.networks import get_network, network_for_dln, networks
from bench.profile import count_macs, profile_network
from kg.importers.mlperf_tiny import REFERENCE_NETWORKS
from kg.namespaces import entity

torch.set_num_threads(1)


def test_mac_count_follows_the_layer_formulas():
    mlp = get_network("mlp").build(1.0)
    assert count_macs(mlp, (64,))[0] == 64 * 128 + 128 * 64 + 64 * 10
    cnn = get_network("small-cnn").build(1.0)
    # conv1: 16×16×16 outputs × 1×3×3; conv2: 32×8×8 outputs × 16×3×3; fc: 10 × 512
    assert count_macs(cnn, (1, 16, 16))[0] == 16 * 16 * 16 * 9 + 32 * 8 * 8 * 16 * 9 + 10 * 512


@pytest.mark.parametrize("name, benchmark", [("ds-cnn", "kws"), ("mobilenetv1-0.25", "vww"), ("resnet-8", "ic"),
                                             ("fc-autoencoder", "ad")])
def test_tiny_networks_are_the_mlperf_importers_dlns(name, benchmark):
    spec = get_network(name)
    assert spec.dln_iri == entity("dln", "mlperf-tiny", benchmark)
    assert network_for_dln(spec.dln_iri.value) is spec
    ref = REFERENCE_NETWORKS[benchmark]
    p = profile_network(spec.build(1.0), spec.input_shape)
    assert (p.layers, p.inputs, p.outputs) == (ref.layers_with_weights, ref.inputs, ref.outputs)


def test_reference_sizes_match_the_published_networks():
    # MLPerf Tiny reference figures: ResNet-8 ≈ 78 k parameters / 12.5 M MACs, MobileNetV1 α=0.25
    # ≈ 7.5 M MACs, DS-CNN ≈ 2.7 M MACs, FC autoencoder ≈ 0.26 M MACs.
    p = {n: profile_network(get_network(n).build(1.0), get_network(n).input_shape) for n in
         ("resnet-8", "mobilenetv1-0.25", "ds-cnn", "fc-autoencoder")}
    assert 75_000 < p["resnet-8"].parameters < 80_000 and 12_000_000 < p["resnet-8"].macs < 13_000_000
    assert 7_000_000 < p["mobilenetv1-0.25"].macs < 8_000_000
    assert 2_500_000 < p["ds-cnn"].macs < 2_800_000
    assert 250_000 < p["fc-autoencoder"].macs < 280_000


def test_registry_has_the_classic_families_and_narrower_students():
    names = set(networks())
    assert {"resnet-18", "resnet-50", "mobilenetv2", "small-cnn", "mlp"} <= names
    for name in ("ds-cnn", "resnet-8", "small-cnn"):
        spec = get_network(name)
        full = profile_network(spec.build(1.0), spec.input_shape).parameters
        half = profile_network(spec.build(0.5), spec.input_shape).parameters
        assert half < full / 2.5
