"""DLOM knowledge-graph core: ontology, stores, validated writes and importers."""
