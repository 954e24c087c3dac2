"""Measuring predicted configurations for real: propose → build → measure → write back.

The layer above decision support (:mod:`decision`), the prediction model (:mod:`gnn`) and the benchmark
(:mod:`bench`), and the only one that joins them:

* :mod:`measure.host` — the machine this process runs on, described as ``dlom:BenchmarkHost`` devices
  (the host and its standard device settings) and written once, idempotently;
* :mod:`measure.plan` — the one decision whether a configuration can be measured here, and the bench
  spec that measures it (the proposal listings and the measurement job both call it);
* :mod:`measure.build_new` — decision support's 'Build new' path: the server's own prediction of a
  proposal, stored as a predicted model, then measured on this host;
* :mod:`measure.loop` — the closed loop: propose, measure, retrain, compare.
"""
