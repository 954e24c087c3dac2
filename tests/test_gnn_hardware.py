"""The GNN sees one physical board across rounds (#14): every configuration of a dlom:Hardware entity is
linked to the others in the exported graph, a trained model passes messages over those links, and the
leave-devices-out evaluation never tests a board whose other configurations it trained on. On the real
MLPerf Tiny import (the NUCLEO-L4R5ZI is measured in every round, each round a device node of its own)."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from gnn.evaluate import device_group, device_split
from gnn.export import ExportedGraph, export_graph
from gnn.model import ModelConfig
from gnn.train import train_ensemble
from kg.importers.mlperf_tiny import import_mlperf_tiny
from kg.ontology import ontology_quads
from kg.store import Store, open_store

SHARED_TINY = Path(__file__).resolve().parents[2] / "shared" / "data" / "mlperf-tiny"
SAME_HARDWARE = ("device", "same_hardware", "device")

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def tiny() -> Iterator[tuple[Store, ExportedGraph]]:
    s = open_store("oxigraph://")
    s.add(ontology_quads())
    import_mlperf_tiny(s, SHARED_TINY)
    yield s, export_graph(s)
    s.close()


def _configurations(store: Store) -> dict[str, set[str]]:
    """Hardware entity → its device configurations, by a query of its own."""
    out: dict[str, set[str]] = defaultdict(set)
    for row in store.select("PREFIX dlom: <https://w3id.org/dlom#> "
                            "SELECT ?h ?d WHERE { ?d a dlom:EndDevice ; dlom:hardware ?h }").dicts():
        out[row["h"].value].add(row["d"].value)
    return out


def test_the_configurations_of_one_board_are_linked(tiny: tuple[Store, ExportedGraph]) -> None:
    store, graph = tiny
    iris = graph.iris["device"]
    edges = {(iris[a], iris[b]) for a, b in graph.data[SAME_HARDWARE].edge_index.t().tolist()}
    expected = {(a, b) for devices in _configurations(store).values() for a in devices for b in devices if a != b}
    assert edges == expected
    nucleo = max(_configurations(store).values(), key=len)
    assert len(nucleo) >= 5  # one board, a device node per round and submitter


def test_leave_devices_out_holds_out_every_configuration_of_a_board(tiny: tuple[Store, ExportedGraph]) -> None:
    store, graph = tiny
    hardware_of = {d: hw for hw, devices in _configurations(store).items() for d in devices}
    for fold in device_split(graph, folds=5):
        def boards(rows: np.ndarray) -> set[str]:
            return {hardware_of.get(graph.iris["device"][int(graph.model_device[i])], "") for i in rows}
        assert not (boards(fold.train) & boards(fold.test)) - {""}
    for d, iri in enumerate(graph.iris["device"]):
        if iri in hardware_of:
            assert device_group(graph, d) == hardware_of[iri]


def test_a_trained_model_passes_messages_between_configurations_of_one_board(tiny: tuple[Store, ExportedGraph]) -> None:
    store, graph = tiny
    ens = train_ensemble(graph, config=ModelConfig(hidden=8, members=2, epochs=3))
    assert SAME_HARDWARE in ens.edge_types
    with_links = ens.tables(graph)
    # cut the links of one board (the one with the most configurations) and only those
    board = {graph.index["device"][d] for d in max(_configurations(store).values(), key=len)}
    edges = graph.data[SAME_HARDWARE].edge_index
    graph.data[SAME_HARDWARE].edge_index = edges[:, [int(a) not in board for a in edges[0]]]
    try:
        without = ens.tables(graph)
    finally:
        graph.data[SAME_HARDWARE].edge_index = edges
    rows, others = sorted(board), sorted(set(range(graph.count("device"))) - board)
    for member_with, member_without in zip(with_links, without):
        # what the board's other configurations hold reaches each of its devices, and no other device
        assert not torch.allclose(member_with["device"][rows], member_without["device"][rows])
        assert torch.equal(member_with["device"][others], member_without["device"][others])
