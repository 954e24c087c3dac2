"""The GNN on the shipped knowledge graph: export shapes equal SPARQL counts; the shipped predictor loads,
predicts, and its ONNX scorer agrees with torch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from gnn.export import export_graph
from gnn.model import model_batch
from gnn.onnx_scorer import OnnxScorer
from gnn.paths import SHIPPED_CHECKPOINT, SHIPPED_ONNX
from gnn.train import Ensemble
from kg.bootstrap import ensure_initialized, shipped_files
from kg.namespaces import SPARQL_PREFIXES
from kg.store import Store, open_store

pytestmark = pytest.mark.skipif(not shipped_files(), reason="no shipped knowledge graph in kg/data")
torch.set_num_threads(1)


@pytest.fixture(scope="module")
def shipped_store() -> Store:
    s = open_store("oxigraph://")
    ensure_initialized(s)
    yield s
    s.close()


def _count(store: Store, where: str) -> int:
    res = store.select(SPARQL_PREFIXES + f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {where} }}")
    return int(next(iter(res.rows))[0].value)


def test_node_counts_equal_sparql_counts(shipped_store: Store) -> None:
    g = export_graph(shipped_store)
    assert g.count("dln") == _count(shipped_store, "?s a dlom:DLN")
    assert g.count("device") == _count(shipped_store, "?s a dlom:EndDevice")
    assert g.count("cloud") == _count(shipped_store, "?s a dlom:CloudConfiguration")
    assert g.count("framework") == _count(shipped_store, "VALUES ?c { dlom:Framework dlom:Compiler } ?s a ?c")
    assert g.count("technique") == _count(shipped_store, "?s a ?c . ?c rdfs:subClassOf* dlom:OptimizationTechnique")
    # models whose only performance is predicted are not training data
    # models placed on a DLN and a device (server-side-only records have no device), not only predicted
    assert g.count("model") == _count(shipped_store, """?s a dlom:Model . FILTER EXISTS { ?s dlom:usesDLN ?n ; dlom:deployedOn ?d }
        FILTER NOT EXISTS { ?s dlom:hasPerformance ?p . ?p a dlom:PredictedPerformance
        FILTER NOT EXISTS { ?s dlom:hasPerformance ?q . ?q a dlom:MeasuredPerformance } }""")
    measured_latency = _count(shipped_store, """?s a dlom:Model ; dlom:usesDLN ?n ; dlom:deployedOn ?d ;
        dlom:hasPerformance ?p . ?p a dlom:MeasuredPerformance ; dlom:inferenceLatencyMs ?l""")
    assert int((~np.isnan(g.targets[:, 0])).sum()) == measured_latency
    for t in g.iris:
        assert g.data[t].x.shape[0] == g.count(t)
    assert g.data["model", "deployed_on", "device"].edge_index.shape[1] == g.count("model")


@pytest.mark.skipif(not SHIPPED_CHECKPOINT.is_file(), reason="no shipped predictor")
def test_shipped_predictor_predicts_and_onnx_agrees(shipped_store: Store) -> None:
    g = export_graph(shipped_store)
    ens = Ensemble.load(SHIPPED_CHECKPOINT)
    batch = model_batch(g, np.arange(min(50, g.count("model"))))
    pred = ens.predict(g, batch)
    assert np.isfinite(pred.mean).all() and (pred.std >= 0).all()
    scorer = OnnxScorer.load(SHIPPED_ONNX)
    if not scorer.matches(g):  # the shipped graph grew after the predictor was built: build a fresh scorer
        scorer = OnnxScorer.build(ens, g)
    np.testing.assert_allclose(scorer.score(batch).mean, pred.mean, atol=1e-3)
