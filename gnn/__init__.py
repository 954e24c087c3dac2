"""The DL modeling network (§5.3 of the DLOM paper): a heterogeneous GNN over the knowledge graph.

One idea per module:

* :mod:`gnn.features` — deterministic node features (numeric transforms, hashed text tokens)
* :mod:`gnn.export` — store → PyG ``HeteroData`` (SPARQL through the Store protocol only)
* :mod:`gnn.model` — HeteroConv(SAGEConv) encoder, configuration read-out, metric + link heads
* :mod:`gnn.train` — masked-loss ensemble training (label trick, cold-start edge hiding), checkpoints
* :mod:`gnn.baselines` — global/per-DLN mean, k-NN, gradient-boosted trees, matrix factorization
* :mod:`gnn.evaluate` — random, leave-devices-out and temporal splits; metrics; :mod:`gnn.report` the table
* :mod:`gnn.propose` — unseen consistent configurations, Eq.-1 ranking, recording as predictions
* :mod:`gnn.predict` — one configuration by IRI or label (cold start included)
* :mod:`gnn.onnx_scorer` — ONNX export, onnxruntime scoring, decision support's CandidatePredictor
* :mod:`gnn.paths`, :mod:`gnn.errors` — where predictors live; user-facing errors
"""
