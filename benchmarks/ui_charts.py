"""The UI's two charts (latency against accuracy; predicted against measured) through the facet index
(decision.chart_data) beside the chart queries (kg.exploration) in the same run — the anchor.

Usage: python -m benchmarks.ui_charts [store URL] [repetitions]   (default: the shipped graph, built in
memory as `dlom init` builds it; e.g. oxigraph:///tmp/bench-store after `dlom init --store ...`)
"""
from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.table import Table

from benchmarks.timing import machine_line, timed_ms
from decision import chart_data
from decision.facet_index import facet_index
from kg import exploration
from kg.bootstrap import ensure_initialized
from kg.store import open_store


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "oxigraph://"
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    console = Console(width=160)
    store = open_store(url)
    ensure_initialized(store)
    t0 = time.perf_counter()
    index = facet_index(store)
    assert index is not None and not index.unplotted and not index.unlisted, "the index cannot answer the charts"
    console.print(f"{url}: {store.count():,} quads; facet index of {len(index):,} models built in "
                  f"{time.perf_counter() - t0:.1f} s")
    table = Table("chart", "points / pairs", "facet index p50 ms", "query p50 ms (anchor)", "ratio")
    for name, fast, slow, size in (
            ("latency against accuracy", chart_data.latency_accuracy_points, exploration.latency_accuracy_points,
             lambda r: len(r["points"])),
            ("predicted against measured", chart_data.predicted_vs_measured, exploration.predicted_vs_measured,
             lambda r: len(r["pairs"]))):
        assert fast(store) == slow(store)
        f, _ = timed_ms(lambda: fast(store), reps, warm_up=False)
        s, _ = timed_ms(lambda: slow(store), max(1, reps // 2), warm_up=False)
        table.add_row(name, f"{size(fast(store)):,}", f"{f:.1f}", f"{s:.1f}", f"{f / s:.3f}")
    console.print(table)
    console.print(machine_line())


if __name__ == "__main__":
    main()
