"""Explorer search (``GET /api/search``, :func:`kg.exploration.search_page`) through the label index
(:mod:`kg.label_index`) beside the bare SPARQL query it replaces (the engine's floor), in one run: p50/p95
per needle, the index's build time and memory.

    python benchmarks/explorer_search.py --store oxigraph:///tmp/search-store
"""
from __future__ import annotations

import argparse

from benchmarks.timing import timed_ms
from kg import exploration
from kg.store import open_store

NEEDLES = ("nucleo", "resnet", "raspberry", "w8a8", "mobilenet", "jetson orin")


def main() -> None:
    """Print the table; the store is only read."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--store", default="oxigraph:///tmp/search-store")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--sparql-repeat", type=int, default=3)
    args = ap.parse_args()
    store = open_store(args.store)
    print(f"store {args.store}: {store.count()} quads")
    index = exploration.label_index(store)
    if index is None:
        print("this store has no generation: no label index, searches run the query")
        return
    print(f"label index: {len(index.iris)} subjects, {len(index.labels)} labels, built in {index.build_ms:.0f} ms, "
          f"{index.nbytes / 1e6:.0f} MB")
    print(f"{'needle':14} {'matches':>8} {'index p50':>10} {'p95':>8} {'SPARQL p50':>11} {'p95':>8}  (ms; a 20-result page)")
    for q in NEEDLES:
        total = exploration.search_page(store, q).total
        fast = timed_ms(lambda: exploration.search_page(store, q), args.repeat, upper=0.95, warm_up=False)
        slow = timed_ms(lambda: exploration.search_page(store, q, through_index=False), args.sparql_repeat, upper=0.95, warm_up=False)
        print(f"{q:14} {total:8} {fast[0]:10.1f} {fast[1]:8.1f} {slow[0]:11.0f} {slow[1]:8.0f}")


if __name__ == "__main__":
    main()
