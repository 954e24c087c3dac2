"""The DLOM decision support system (§5.3 of the paper, Fig. 6, Eq. 1).

A plain library, one idea per module:

* :mod:`decision.requirement_table` — what each requirement means, one row per field (the others derive from it)
* :mod:`decision.requirements` — the six-step modeling request, validated with field-level errors
* :mod:`decision.retrieval` — requirements → one safely-bound SPARQL query → candidate models
* :mod:`decision.facet_index` — what retrieval and ranking read of every model, as columns (the fast path)
* :mod:`decision.encoded_column` — a dictionary-encoded column (texts, technique sets, variant keys)
* :mod:`decision.checks` — which requirements a candidate meets and by how much
* :mod:`decision.applicability` — which stated requirements the data can check ('not applied' otherwise)
* :mod:`decision.diversity` — near-identical variants grouped in the top k ("n more like this")
* :mod:`decision.elicitation` — AHP weights and consistency from pairwise comparisons (Harker completion)
* :mod:`decision.objectives` — the six 1-5 objective values: ratings, derived, Table 1 effects, or missing
* :mod:`decision.measured_effects` — paired measurements of each precision against float
  (:mod:`decision.precision_effects`: the distributions they give)
* :mod:`decision.scoring` — Eq. 1 and the ranking
* :mod:`decision.pareto` — the Pareto front
* :mod:`decision.sensitivity` — how far each weight can move before the top choice changes
* :mod:`decision.evidence` — provenance of the performance records
* :mod:`decision.ratings` — users' 1-5 ratings as dlom:Rating nodes
* :mod:`decision.prediction` — the CandidatePredictor protocol (the GNN) and saving predicted models
* :mod:`decision.recommend` — the workflow (``from decision.recommend import recommend``)

The package imports none of its modules: the GNN's torch-free scorer needs a few of them
(objectives, scoring, prediction), and a command should not pay for importing the whole workflow.
"""
