"""Scoring 1,000 candidate configurations: onnxruntime vs torch eager, same candidates, same predictor.

Target: ≤ 20 ms p95 for 1,000 candidates on CPU with onnxruntime. The paths score the same
:class:`gnn.model.CandidateBatch` with the same embedding tables (the GNN's message passing has run
once beforehand, as in serving), and the script checks that they agree before timing:
``onnxruntime`` and ``torch_eager`` run :class:`gnn.onnx_scorer.ScorerModule` (first head layer folded
into the embedding tables); ``torch_eager_unfactored`` is the ensemble's own per-member read-out + heads.

Usage::

    .venv/bin/python benchmarks/gnn_scoring.py [--model PATH] [--candidates 1000] [--repeats 200] [--threads 1]

Uses the shipped graph (in-memory store) and the trained checkpoint (default: $DLOM_HOME/gnn/predictor.pt,
else gnn/artifacts/predictor.pt). Prints p50/p95/p99 in ms for each path as JSON.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)

    def pct(p: float) -> float:
        return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]

    return {"p50_ms": round(pct(50), 3), "p95_ms": round(pct(95), 3), "p99_ms": round(pct(99), 3),
            "mean_ms": round(statistics.fmean(s), 3), "runs": len(s)}


def main() -> int:
    from gnn.export import export_graph
    from gnn.onnx_scorer import OnnxScorer, ScorerModule
    from gnn.paths import resolve_checkpoint
    from gnn.propose import candidate_batch, generate_candidates
    from gnn.train import Ensemble
    from kg.bootstrap import ensure_initialized
    from kg.store import open_store

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--candidates", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    store = open_store("oxigraph://")
    ensure_initialized(store)
    graph = export_graph(store)
    ens = Ensemble.load(resolve_checkpoint(args.model))
    pool = generate_candidates(graph, include_unfit=True)
    # Exactly N candidates: the generated pool, repeated if it is smaller (scoring cost is per row).
    idx = np.resize(np.arange(len(pool)), args.candidates)
    batch = candidate_batch(graph, [pool[i] for i in idx])

    scorer = OnnxScorer.build(ens, graph)
    module = ScorerModule(ens, ens.tables(graph))
    with torch.no_grad():
        eager = module(batch.dln, batch.device, batch.techniques, batch.frameworks, batch.clouds)
    onnx_out = scorer.score_arrays(batch)
    tables = ens.tables(graph)
    reference = ens.predict(graph, batch, tables)  # the unfactored per-member read-out and heads
    max_diff = max(float(np.abs(onnx_out[0] - eager[0].numpy()).max()),
                   float(np.abs(onnx_out[0] - reference.mean).max()))
    if max_diff > 1e-3:
        print(f"ONNX and torch disagree (max |Δ| {max_diff})", file=sys.stderr)
        return 1

    def time_it(fn) -> list[float]:
        for _ in range(10):
            fn()
        out = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000.0)
        return out

    feeds = (batch.dln, batch.device, batch.techniques, batch.frameworks, batch.clouds)

    def torch_eager() -> None:
        with torch.no_grad():
            module(*feeds)

    result = {
        "candidates": args.candidates, "ensemble_members": len(ens.members), "predictor_version": ens.version,
        "max_abs_diff_onnx_vs_torch": max_diff,
        "onnxruntime": percentiles(time_it(lambda: scorer.score_arrays(batch))),
        "torch_eager": percentiles(time_it(torch_eager)),
        "torch_eager_unfactored": percentiles(time_it(lambda: ens.raw_outputs(tables, batch))),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "threads": args.threads,
        "onnx_bytes": len(scorer.model_bytes),
    }
    result["target_p95_ms"] = 20.0
    result["meets_target"] = result["onnxruntime"]["p95_ms"] <= 20.0
    print(json.dumps(result, indent=2))
    store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
