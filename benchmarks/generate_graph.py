"""Generate a synthetic graph shaped like the DLOM ontology, for benchmarks (deterministic by seed).

``generate_graph(target_triples)`` returns routed quads: DLNs, devices, frameworks, techniques, cloud
configurations, and models with measured performance and provenance, in the proportions of the real graph
but with business attributes (application area, cost, number of devices) on every model so that the
paper's Query 1 has something to select. Run as a script to write N-Quads:
``python -m benchmarks.generate_graph 1000000 out.nq``.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

from pyoxigraph import Quad, Triple

from kg.namespaces import DLOM, PROV, RDF, RDFS, entity
from kg.repositories import route
from kg.terms import literal

APPLICATION_AREAS = ["Medical", "Industrial", "Academic", "Agriculture", "Retail", "Automotive", "Smart home",
                     "Energy", "Logistics", "Security", "Finance", "Education", "Telecom", "Sports",
                     "Environment", "Aerospace", "Manufacturing", "Entertainment", "Public sector", "Real estate"]
PURPOSES = ["Keyword spotting", "Visual wake words", "Image classification", "Anomaly detection", "Object detection"]
FAMILIES = [DLOM.Quantization, DLOM.Pruning, DLOM.KnowledgeDistillation, DLOM.TensorDecomposition,
            DLOM.FineTuning, DLOM.HardwareOptimization]
TRIPLES_PER_MODEL = 22  # measured: model 12 + performance 9 + a share of the shared entities


def generate_graph(target_triples: int, seed: int = 7) -> list[Quad]:
    """About ``target_triples`` routed quads of a synthetic DLOM graph."""
    rnd = random.Random(seed)
    triples: list[Triple] = []
    add = triples.append
    n_models = max(1, target_triples // TRIPLES_PER_MODEL)
    dlns = [entity("dln", "synthetic", str(i)) for i in range(40)]
    for i, d in enumerate(dlns):
        add(Triple(d, RDF.type, DLOM.DLN)); add(Triple(d, RDFS.label, literal(f"Synthetic DLN {i}")))
        add(Triple(d, DLOM.numberOfLayers, literal(rnd.randint(5, 150))))
        add(Triple(d, DLOM.numberOfParameters, literal(rnd.randint(10_000, 25_000_000))))
    devices = [entity("device", "synthetic", str(i)) for i in range(300)]
    for i, d in enumerate(devices):
        add(Triple(d, RDF.type, DLOM.EndDevice)); add(Triple(d, RDFS.label, literal(f"Synthetic device {i}")))
        add(Triple(d, DLOM.clockFrequencyMHz, literal(float(rnd.choice([48, 80, 120, 160, 280, 480, 1500])))))
        add(Triple(d, DLOM.memoryKB, literal(float(rnd.choice([128, 256, 320, 640, 1024, 8 * 1024 * 1024])))))
        add(Triple(d, DLOM.priceUsd, literal(round(rnd.uniform(5, 900), 2))))
    techniques = [entity("technique", "synthetic", str(i)) for i in range(120)]
    for i, t in enumerate(techniques):
        add(Triple(t, RDF.type, FAMILIES[i % len(FAMILIES)])); add(Triple(t, RDFS.label, literal(f"Technique {i}")))
    clouds = [entity("cloud", "synthetic", str(i)) for i in range(30)]
    for i, c in enumerate(clouds):
        add(Triple(c, RDF.type, DLOM.CloudConfiguration)); add(Triple(c, RDFS.label, literal(f"Cloud {i}")))
        add(Triple(c, DLOM.monthlyCostUsd, literal(round(rnd.uniform(10, 2000), 2))))
    run = entity("run", "synthetic")
    add(Triple(run, RDF.type, DLOM.BenchmarkRun)); add(Triple(run, RDFS.label, literal("Synthetic generator")))
    for i in range(n_models):
        m, p = entity("model", "synthetic", str(i)), entity("performance", "synthetic", str(i))
        add(Triple(m, RDF.type, DLOM.Model)); add(Triple(m, RDFS.label, literal(f"Synthetic model {i}")))
        add(Triple(m, DLOM.usesDLN, rnd.choice(dlns))); add(Triple(m, DLOM.deployedOn, rnd.choice(devices)))
        add(Triple(m, DLOM.appliesOptimization, rnd.choice(techniques)))
        add(Triple(m, DLOM.usesCloudConfiguration, rnd.choice(clouds)))
        add(Triple(m, DLOM.applicationArea, literal(rnd.choice(APPLICATION_AREAS))))
        add(Triple(m, DLOM.purpose, literal(rnd.choice(PURPOSES))))
        add(Triple(m, DLOM.yearCreated, literal(rnd.randint(2015, 2026))))
        add(Triple(m, DLOM.totalCostUsd, literal(round(rnd.uniform(500, 50_000), 2))))
        add(Triple(m, DLOM.numberOfIoTDevices, literal(rnd.randint(1, 100))))
        add(Triple(m, DLOM.hasPerformance, p))
        add(Triple(p, RDF.type, DLOM.MeasuredPerformance)); add(Triple(p, RDFS.label, literal(f"Performance {i}")))
        add(Triple(p, DLOM.inferenceLatencyMs, literal(round(rnd.lognormvariate(3, 1.2), 3))))
        add(Triple(p, DLOM.accuracy, literal(round(rnd.uniform(0.6, 0.99), 4))))
        add(Triple(p, DLOM.energyPerInferenceUj, literal(round(rnd.lognormvariate(6, 1.5), 2))))
        add(Triple(p, DLOM.throughputIps, literal(round(rnd.lognormvariate(3, 1.2), 3))))
        add(Triple(p, DLOM.stability, literal(round(rnd.uniform(0, 0.01), 5))))
        add(Triple(p, DLOM.memoryMb, literal(round(rnd.uniform(0.05, 64), 3))))
        add(Triple(p, PROV.wasGeneratedBy, run))
    return route(triples)


def main() -> None:
    target = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("synthetic.nq")
    quads = generate_graph(target)
    out.write_text("".join(f"{q} .\n" for q in quads))
    print(f"wrote {len(quads)} quads to {out}")


if __name__ == "__main__":
    main()
