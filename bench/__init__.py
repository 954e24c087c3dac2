"""The DLOM benchmark module: configurations → real models → measurements → the knowledge graph.

A spec (:mod:`bench.spec`) names a registered network (:mod:`bench.networks`, built from code), a
sequence of optimization techniques applied for real (:mod:`bench.techniques`: int8/fp16
quantization, unstructured and structured pruning, low-rank decomposition, distillation,
fine-tuning), a runtime (onnxruntime or PyTorch eager) and a device setting (threads, pinned cores).
:func:`bench.harness.run_benchmark` trains the network on the offline UCI digits
(:mod:`bench.data`), applies the techniques, measures quality, latency percentiles, throughput, size,
memory and (where RAPL exists) energy, and :mod:`bench.graph` writes the result as a validated
``dlom:Model`` + ``dlom:MeasuredPerformance`` with PROV-O provenance. :mod:`bench.sweep` runs whole
grids, resumably. The command line is ``dlom bench run|sweep`` (:mod:`dlom.bench_command`).

Importing this package does not import PyTorch; the submodules do.
"""
