"""The model catalog: decision-free reads of models, DLNs, devices, techniques, cloud configurations
and performance (by filters, sort order and IRI lists), and the validated submission of a measured
configuration. The GraphQL API calls these functions and holds no SPARQL of its own.

* :mod:`kg.catalog.records` — the plain records and how each field maps to an ontology property;
* :mod:`kg.catalog.queries` — :func:`find_models` (a filtered, sorted page) and the ``*_by_iri``
  batch fetches (a fixed number of store queries whatever the number of IRIs);
* :mod:`kg.catalog.submissions` — :func:`submit_measured_configuration` with per-field errors.
"""
