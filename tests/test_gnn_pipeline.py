"""The GNN end to end on a tiny graph written through the validated write path: export shapes, training,
prediction (cold start included), proposals stored as predictions, ONNX/torch agreement, clear errors."""
from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from pyoxigraph import NamedNode, Triple

from gnn.entities import resolve
from gnn.errors import EmptyGraphError, NoTrainedModelError, UnknownEntityError
from gnn.export import METRICS, export_graph, message_edges
from gnn.model import ModelConfig, model_batch, readout
from gnn.onnx_scorer import OnnxCandidatePredictor, OnnxScorer, ScorerModule
from gnn.predict import predict_configuration
from gnn.propose import candidate_batch, generate_candidates, memory_fit, propose, write_proposals
from gnn.train import Ensemble, train_ensemble
from kg.namespaces import DLOM, PROV, RDF, RDFS, SPARQL_PREFIXES, entity
from kg.ontology import ontology_quads
from kg.store import Store, open_store
from kg.terms import literal
from kg.writes import write_triples

torch.set_num_threads(1)

DLNS = [("tiny-cnn", 20_000, 2_000_000, 6), ("mid-cnn", 80_000, 9_000_000, 10), ("big-cnn", 300_000, 40_000_000, 20)]
DEVICES = [("Board A", "Arm Cortex-M4", 80.0, 256.0), ("Board B", "Arm Cortex-M7", 480.0, 1024.0),
           ("Board C", "RISC-V RV32IMAC", 200.0, 512.0), ("Board D", "Arm Cortex-M33", 160.0, 640.0),
           ("Board E", "Arm Cortex-A53", 1200.0, 1_048_576.0)]
COLD_DEVICE = ("Board Cold", "Arm Cortex-M7", 400.0, 2048.0)


def _add(t: list[Triple], s: NamedNode, p: NamedNode, o: object) -> None:
    t.append(Triple(s, p, o if isinstance(o, NamedNode) else literal(o)))


def build_tiny_graph(store: Store) -> None:
    """Three DLNs × five devices (plus one never-measured device), an int8 quantization and a
    compiler; latency follows MACs / clock, so there is something real to learn."""
    t: list[Triple] = []
    fw = entity("framework", "test", "tflm")
    _add(t, fw, RDF.type, DLOM.Framework)
    _add(t, fw, RDFS.label, "TFLM test framework")
    q = entity("technique", "test", "int8")
    _add(t, q, RDF.type, DLOM.Quantization)
    _add(t, q, RDFS.label, "Quantization: INT8 (test)")
    _add(t, q, DLOM.bitWidth, 8)
    c = entity("technique", "test", "compiler")
    _add(t, c, RDF.type, DLOM.HardwareOptimization)
    _add(t, c, RDFS.label, "ML model compiler: test compiler")
    run = entity("run", "test")
    _add(t, run, RDF.type, DLOM.BenchmarkRun)
    _add(t, run, RDFS.label, "test run")
    dlns = []
    for name, params, macs, layers in DLNS:
        d = entity("dln", "test", name)
        dlns.append((d, macs))
        _add(t, d, RDF.type, DLOM.DLN)
        _add(t, d, RDFS.label, name)
        _add(t, d, DLOM.numberOfParameters, params)
        _add(t, d, DLOM.macs, macs)
        _add(t, d, DLOM.numberOfLayers, layers)
    for n, (board, cpu, mhz, mem) in enumerate([*DEVICES, COLD_DEVICE]):
        v = entity("device", "test", board)
        _add(t, v, RDF.type, DLOM.EndDevice)
        _add(t, v, RDFS.label, board)
        _add(t, v, DLOM.board, board)
        _add(t, v, DLOM.processor, cpu)
        _add(t, v, DLOM.clockFrequencyMHz, mhz)
        _add(t, v, DLOM.memoryKB, mem)
        _add(t, v, DLOM.usesFramework, fw)
        if board == COLD_DEVICE[0]:
            continue
        for k, (d, macs) in enumerate(dlns):
            for variant, techs in enumerate(([q], [q, c])):
                m = entity("model", "test", board, str(k), str(variant))
                p = entity("performance", "test", board, str(k), str(variant))
                _add(t, m, RDF.type, DLOM.Model)
                _add(t, m, RDFS.label, f"{d.value} on {board} v{variant}")
                _add(t, m, DLOM.usesDLN, d)
                _add(t, m, DLOM.deployedOn, v)
                for x in techs:
                    _add(t, m, DLOM.appliesOptimization, x)
                _add(t, m, DLOM.benchmarkRound, "v1.0" if n < 3 else "v1.1")
                _add(t, m, DLOM.hasPerformance, p)
                _add(t, p, RDF.type, DLOM.MeasuredPerformance)
                _add(t, p, RDFS.label, "measured")
                _add(t, p, PROV.wasGeneratedBy, run)
                latency = macs / (mhz * 1000.0) * (0.6 if variant else 1.0) * (1.0 + 0.05 * ((n * 7 + k) % 3))
                _add(t, p, DLOM.inferenceLatencyMs, round(latency, 6))
                _add(t, p, DLOM.accuracy, round(0.80 + 0.05 * k - 0.01 * variant, 4))
                if n % 2 == 0:
                    _add(t, p, DLOM.energyPerInferenceUj, round(latency * 30.0, 4))
    write_triples(store, t, source="tiny test graph")


@pytest.fixture(scope="module")
def tiny_store() -> Store:
    s = open_store("oxigraph://")
    s.add(ontology_quads())
    build_tiny_graph(s)
    yield s
    s.close()


@pytest.fixture(scope="module")
def trained(tiny_store: Store) -> Ensemble:
    graph = export_graph(tiny_store)
    return train_ensemble(graph, config=ModelConfig(hidden=16, members=3, epochs=60), device=torch.device("cpu"))


def _count(store: Store, sparql: str) -> int:
    res = store.select(SPARQL_PREFIXES + sparql)
    return int(next(iter(res.rows))[0].value)


def test_export_node_counts_match_sparql(tiny_store: Store) -> None:
    g = export_graph(tiny_store)
    assert g.count("dln") == _count(tiny_store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a dlom:DLN }") == 3
    assert g.count("device") == _count(tiny_store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a dlom:EndDevice }") == 6
    assert g.count("model") == _count(tiny_store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a dlom:Model }") == 30
    assert g.count("technique") == _count(tiny_store, """SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {
        ?s a ?c . ?c rdfs:subClassOf* dlom:OptimizationTechnique }""") == 2
    assert g.count("framework") == 1
    d = g.data
    for t in ("dln", "device", "technique", "framework", "model"):
        assert d[t].x.shape[0] == g.count(t)
    assert d["model", "deployed_on", "device"].edge_index.shape == (2, 30)
    assert d["model", "applies", "technique"].edge_index.shape == (2, 45)
    assert d["device", "rev_deployed_on", "model"].edge_index.shape == (2, 30)
    assert g.targets.shape == (30, len(METRICS))
    assert np.isnan(g.targets[:, 2]).sum() == 12  # energy only on boards A, C, E
    assert sorted(set(g.rounds)) == ["v1.0", "v1.1"]


def test_export_is_deterministic(tiny_store: Store) -> None:
    a, b = export_graph(tiny_store), export_graph(tiny_store)
    assert a.iris == b.iris
    for t in a.data.node_types:
        assert torch.equal(a.data[t].x, b.data[t].x)
    for et in a.data.edge_types:
        assert torch.equal(a.data[et].edge_index, b.data[et].edge_index)


def test_empty_graph_is_a_clear_error(store: Store) -> None:
    with pytest.raises(EmptyGraphError, match="no dlom:Model with a measured"):
        export_graph(store)


def test_training_lowers_the_loss(trained: Ensemble) -> None:
    for history in trained.losses:
        assert np.mean(history[-10:]) < 0.5 * np.mean(history[:5])


def test_early_stopping_on_held_out_devices_trains(tiny_store: Store) -> None:
    graph = export_graph(tiny_store)
    ens = train_ensemble(graph, config=ModelConfig(hidden=8, members=1, epochs=30, val_share=0.4),
                         device=torch.device("cpu"))
    assert np.isfinite(ens.predict(graph, model_batch(graph)).mean).all()


def test_fits_training_data_better_than_the_mean(tiny_store: Store, trained: Ensemble) -> None:
    g = export_graph(tiny_store)
    p = trained.predict(g, model_batch(g))
    err = np.abs(p.mean[:, 0] - g.targets[:, 0]).mean()
    assert err < 0.5 * np.abs(g.targets[:, 0] - g.targets[:, 0].mean()).mean()
    assert (p.std >= 0).all() and p.std[:, 0].max() > 0  # members disagree somewhere


def test_cold_start_device_gets_a_prediction(tiny_store: Store, trained: Ensemble) -> None:
    out = predict_configuration(tiny_store, "big-cnn", "Board Cold", ["Quantization: INT8 (test)"], ensemble=trained)
    assert out["cold_start"] is True and out["measured_models_on_device"] == 0
    lat = out["predicted"]["inference_latency_ms"]
    assert math.isfinite(lat) and lat > 0
    assert 0.0 <= out["predicted"]["accuracy"] <= 1.0
    lo, hi = out["uncertainty"]["latency_ms_1sigma"]
    assert lo <= lat <= hi
    assert out["memory_fit"] is True and out["weight_bytes"] == 300_000.0  # int8: one byte per weight


def test_bigger_network_predicted_slower(tiny_store: Store, trained: Ensemble) -> None:
    small = predict_configuration(tiny_store, "tiny-cnn", "Board B", ["Quantization: INT8 (test)"], ensemble=trained)
    big = predict_configuration(tiny_store, "big-cnn", "Board B", ["Quantization: INT8 (test)"], ensemble=trained)
    assert big["predicted"]["inference_latency_ms"] > small["predicted"]["inference_latency_ms"]


def test_unknown_and_ambiguous_names_are_clear_errors(tiny_store: Store, trained: Ensemble) -> None:
    with pytest.raises(UnknownEntityError, match="unknown device 'Board Z'"):
        predict_configuration(tiny_store, "tiny-cnn", "Board Z", ensemble=trained)
    with pytest.raises(UnknownEntityError, match="ambiguous DLN 'cnn'"):
        predict_configuration(tiny_store, "cnn", "Board A", ensemble=trained)
    with pytest.raises(UnknownEntityError, match="unknown technique"):
        predict_configuration(tiny_store, "tiny-cnn", "Board A", ["magic"], ensemble=trained)


def test_prediction_on_empty_store_is_a_clear_error(store: Store, trained: Ensemble) -> None:
    with pytest.raises(EmptyGraphError, match="no DLN or no end device"):
        predict_configuration(store, "tiny-cnn", "Board A", ensemble=trained)


def test_missing_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NoTrainedModelError, match="run 'dlom gnn train' first"):
        Ensemble.load(tmp_path / "none.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(NoTrainedModelError, match="not a DLOM GNN checkpoint"):
        Ensemble.load(bad)


def test_checkpoint_round_trip(tiny_store: Store, trained: Ensemble, tmp_path: Path) -> None:
    g = export_graph(tiny_store)
    loaded = Ensemble.load(trained.save(tmp_path / "p.pt"))
    assert loaded.version == trained.version
    b = model_batch(g)
    np.testing.assert_allclose(loaded.predict(g, b).mean, trained.predict(g, b).mean, rtol=1e-5, atol=1e-6)


def test_candidates_are_unseen_and_consistent(tiny_store: Store) -> None:
    g = export_graph(tiny_store)
    cands = generate_candidates(g)
    existing = {g.configuration_key(i) for i in range(g.count("model"))}
    assert cands and all((c.dln, c.device, c.techniques) not in existing for c in cands)
    cold = g.index["device"][entity("device", "test", "Board Cold").value]
    assert any(c.device == cold for c in cands)  # the never-measured device borrows its peers' sets
    # fp32 big-cnn (1.2 MB of weights) cannot fit Board A's 256 KB; int8 (300 KB) neither
    a = g.index["device"][entity("device", "test", "Board A").value]
    big = g.index["dln"][resolve(tiny_store, "dln", "big-cnn").iri]
    assert memory_fit(g, big, a, ())[0] is False
    assert not any(c.dln == big and c.device == a for c in cands)


def test_proposals_are_stored_as_predicted_never_measured(tiny_store: Store, trained: Ensemble) -> None:
    g = export_graph(tiny_store)
    proposals = propose(g, trained, {"latency": 3, "performance": 1}, top_k=3)
    assert len(proposals) == 3 and [p.rank for p in proposals] == [1, 2, 3]
    assert proposals[0].score >= proposals[-1].score
    iris = write_proposals(tiny_store, proposals, trained.version)
    for iri in iris:
        assert tiny_store.ask(SPARQL_PREFIXES + f"""ASK WHERE {{ <{iri}> a dlom:Model ; dlom:hasPerformance ?p .
            ?p a dlom:PredictedPerformance ; dlom:predictionConfidence ?c ; dlom:predictorVersion "{trained.version}" ;
               prov:wasGeneratedBy ?a . ?a a dlom:BenchmarkRun ; dlom:codeVersion ?v }}""")
        assert not tiny_store.ask(SPARQL_PREFIXES + f"ASK WHERE {{ <{iri}> dlom:hasPerformance ?p . ?p a dlom:MeasuredPerformance }}")
    # predictions never become training data
    assert export_graph(tiny_store).count("model") == g.count("model")


def test_onnx_and_torch_scoring_agree(tiny_store: Store, trained: Ensemble) -> None:
    g = export_graph(tiny_store)
    batch = candidate_batch(g, generate_candidates(g, include_unfit=True))
    scorer = OnnxScorer.build(trained, g)
    onnx_p = scorer.score(batch)
    torch_p = trained.predict(g, batch)
    np.testing.assert_allclose(onnx_p.mean, torch_p.mean, atol=1e-4)
    np.testing.assert_allclose(onnx_p.std, torch_p.std, atol=1e-4)
    np.testing.assert_allclose(onnx_p.high_score, torch_p.high_score, atol=1e-5)
    with torch.no_grad():
        mean, _std, _high = ScorerModule(trained, trained.tables(g))(batch.dln, batch.device, batch.techniques,
                                                                     batch.frameworks, batch.clouds)
    np.testing.assert_allclose(mean.numpy(), torch_p.mean, atol=1e-4)


def test_head_over_projected_tables_equals_head_over_the_readout(tiny_store: Store, trained: Ensemble) -> None:
    """Training computes the head's first layer from projected tables (never building the 960-wide
    read-out), with sparse mean operators: the same values as the head over the read-out by definition."""
    g = export_graph(tiny_store)
    batch = candidate_batch(g, generate_candidates(g, include_unfit=True))
    sparse = batch.to(torch.device("cpu"), sparse_means=True)
    assert all(op.is_sparse for op in sparse.means())
    for member, tables in zip(trained.members, trained.tables(g)):
        with torch.no_grad():
            z = readout(tables, batch.dln, batch.device, batch.techniques, batch.frameworks, batch.clouds)
            reference = member.head(z)
            dense = member.head.from_tables(tables, batch.dln, batch.device, batch.means())
            from_sparse = member.head.from_tables(tables, sparse.dln, sparse.device, sparse.means())
        assert reference.abs().max() > 0.1
        torch.testing.assert_close(dense, reference, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(from_sparse, reference, atol=1e-5, rtol=1e-5)
        assert "model" not in member.encoder(trained.scaler.transform(g), message_edges(g, None))


def test_candidate_predictor_protocol(tiny_store: Store, trained: Ensemble) -> None:
    from decision.prediction import CandidatePredictor
    from decision.requirements import Requirements

    predictor = OnnxCandidatePredictor(tiny_store, ensemble=trained)
    assert isinstance(predictor, CandidatePredictor)
    req = Requirements.model_validate({"network": {"network": "tiny cnn"}, "performance": {"max_latency_ms": 1e6}})
    out = predictor.predict(req, limit=2)
    assert 1 <= len(out) <= 2
    assert all(c.dln.endswith("tiny-cnn") and 0 <= c.confidence <= 1 for c in out)
    assert all(c.predictor_version == trained.version for c in out)


# Never-measured boards (every configuration on them is unseen, so each is proposed unless a device
# requirement rules it out): name, processor, clock MHz, memory KB, with the test framework.
NEW_BOARDS = [("Board N1", "Arm Cortex-M7 ", 600.0, 2048.0, True), ("Board N2", "RISC-V RV64GC", 100.0, 128.0, True),
              ("Board N3", "arm cortex-m7", 216.0, 512.0, False)]


@pytest.fixture(scope="module")
def store_with_new_boards(tiny_store: Store) -> Iterator[Store]:
    s = open_store("oxigraph://")
    s.add(tiny_store.quads())
    t: list[Triple] = []
    for board, cpu, mhz, mem, with_framework in NEW_BOARDS:
        v = entity("device", "test", board)
        for p, o in ((RDF.type, DLOM.EndDevice), (RDFS.label, board), (DLOM.processor, cpu),
                     (DLOM.clockFrequencyMHz, mhz), (DLOM.memoryKB, mem)):
            _add(t, v, p, o)
        if with_framework:
            _add(t, v, DLOM.usesFramework, entity("framework", "test", "tflm"))
    write_triples(s, t)
    yield s
    s.close()


@pytest.mark.parametrize(("requirements", "boards"), [
    ({}, {"Board N1", "Board N2", "Board N3"}),
    ({"device": {"min_memory_kb": 512, "min_clock_mhz": 200}}, {"Board N1", "Board N3"}),
    ({"project": {"device_types": ["  CORTEX-M7"]}}, {"Board N1", "Board N3"}),  # blanks and case as the query
    ({"device": {"framework": " tflm test"}}, {"Board N1", "Board N2"}),
    ({"device": {"framework": "tvm"}}, set()),
])
def test_proposals_meet_device_requirements_as_the_requirement_table_says(
        store_with_new_boards: Store, trained: Ensemble, requirements: dict, boards: set[str]) -> None:
    from decision.requirements import Requirements

    predictor = OnnxCandidatePredictor(store_with_new_boards, ensemble=trained)
    labels = dict(zip(predictor.graph.iris["device"], predictor.graph.labels["device"]))
    out = predictor.predict(Requirements.model_validate(requirements), limit=1000)
    assert {labels[d] for c in out for d in c.devices} - {"Board Cold"} == boards


def test_proposals_meet_performance_limits_on_predicted_values(tiny_store: Store, trained: Ensemble) -> None:
    from decision.requirements import Requirements

    predictor = OnnxCandidatePredictor(tiny_store, ensemble=trained)
    every = predictor.predict(Requirements.model_validate({}), limit=1000)
    limit = sorted(c.metrics["inferenceLatencyMs"] for c in every)[len(every) // 2]
    kept = predictor.predict(Requirements.model_validate({"performance": {"max_latency_ms": limit}}), limit=1000)
    assert kept and len(kept) < len(every)
    assert all(c.metrics["inferenceLatencyMs"] <= limit for c in kept)
