"""Bulk import into the embedded store, beside rdflib's in-memory load of the same triples.

Measures, on one generated graph shaped like the ontology (benchmarks/generate_graph.py):
  1. DLOM's validated import path — parse N-Quads, SHACL-validate, route to repositories, one atomic
     write into an on-disk Oxigraph store (kg.writes.write_triples, which takes the store's staged bulk
     path for a write this large);
  2. Oxigraph's own bulk loader reading the file, without validation and not atomic (the storage
     engine's ceiling on this machine);
  3. Oxigraph's transactional load of the file, without validation (what every write cost before the
     staged bulk path);
  4. rdflib parsing the same N-Quads into an in-memory Dataset (the anchor).
Prints triples/s for each and the ratios. Usage: python -m benchmarks.kg_import [n_triples]
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rich.console import Console
from rich.table import Table

from benchmarks.generate_graph import generate_graph
from kg.ontology import ontology_quads
from kg.store import open_store
from kg.writes import write_triples


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "graph.nq"
        quads = generate_graph(n)
        data.write_text("".join(f"{q} .\n" for q in quads))
        count = len(quads)
        del quads
        console.print(f"graph: {count} quads, {data.stat().st_size / 1e6:.1f} MB of N-Quads")

        store = open_store(f"oxigraph://{tmp}/validated")
        store.add(ontology_quads())
        t0 = time.perf_counter()
        triples = [q.triple for q in ox.parse(path=str(data), format=ox.RdfFormat.N_QUADS)]
        t_parse = time.perf_counter() - t0
        write_triples(store, triples, source=str(data))
        t_validated = time.perf_counter() - t0
        store.close()
        del triples

        t0 = time.perf_counter()
        engine = ox.Store(f"{tmp}/engine")
        engine.bulk_load(path=str(data), format=ox.RdfFormat.N_QUADS)
        engine.flush()
        t_engine = time.perf_counter() - t0
        del engine

        raw = open_store(f"oxigraph://{tmp}/raw")
        t0 = time.perf_counter()
        raw.load_nquads(data.read_bytes())
        t_raw = time.perf_counter() - t0
        raw.close()

        t0 = time.perf_counter()
        ds = rdflib.Dataset()
        ds.parse(str(data), format="nquads")
        t_rdflib = time.perf_counter() - t0

    table = Table("path", "seconds", "triples/s", "× rdflib")
    for name, secs in [("DLOM validated import (parse+SHACL+route+staged atomic write, on disk)", t_validated),
                       ("  of which parsing", t_parse),
                       ("Oxigraph bulk loader, no validation, not atomic (on disk)", t_engine),
                       ("Oxigraph transactional load, no validation (on disk)", t_raw),
                       ("rdflib Dataset.parse in memory (anchor)", t_rdflib)]:
        table.add_row(name, f"{secs:.2f}", f"{count / secs:,.0f}", f"{t_rdflib / secs:.1f}")
    console.print(table)


if __name__ == "__main__":
    main()
