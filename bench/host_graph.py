"""A benchmark host as DLOM records: the ``dlom:BenchmarkHost`` of a fingerprint and of its settings.

Torch-free on purpose: a server describes the machine it runs on at start-up, before (and without)
the benchmark's heavy dependencies.
"""
from __future__ import annotations

from pyoxigraph import NamedNode, Triple

from bench.device import DeviceSetting, HostFingerprint
from kg.hardware import hardware_triples, match_key
from kg.namespaces import DLOM, PROV, RDF, RDFS
from kg.terms import literal


def host_hardware_key(host: HostFingerprint) -> str:
    """The match key of the host's ``dlom:Hardware``: its fingerprint's hardware identity."""
    return match_key("host", host.key)


def host_device_triples(host: HostFingerprint, setting: DeviceSetting) -> tuple[NamedNode, list[Triple]]:
    """The host as a ``dlom:BenchmarkHost`` (an end device DLOM measures on, described from its
    fingerprint) and, for a constrained ``setting``, the setting's own BenchmarkHost, a
    ``prov:specializationOf`` the host; both are configurations of the host's ``dlom:Hardware``.
    Returns the IRI of the device ``setting`` measures on, and the triples. The same fingerprint and
    setting always give the same triples (the current clock, which wanders, is not recorded)."""
    out: list[Triple] = []
    h = host.iri
    iri = setting.device_iri(host)
    described = [(h, host.label, host.logical_cores, None)]
    if iri != h:
        described.append((iri, setting.device_label(host), setting.available_cores(host),
                          f"constrained setting of this host, not another device: {setting.describe()}"))
    for device, label, cores, constraint in described:
        values = ((RDFS.label, label), (DLOM.processor, host.cpu_model), (DLOM.cpuCores, cores),
                  (DLOM.memoryKB, host.memory_kb), (DLOM.isaFeatures, ", ".join(host.isa_flags) or None),
                  (DLOM.operatingSystem, host.os), (DLOM.gpu, host.gpu), (DLOM.hostSetting, constraint))
        out += [Triple(device, RDF.type, DLOM.EndDevice), Triple(device, RDF.type, DLOM.BenchmarkHost)]
        out += [Triple(device, p, literal(v)) for p, v in values if v is not None]
    if iri != h:
        out.append(Triple(iri, PROV.specializationOf, h))
    out += hardware_triples(host_hardware_key(host),
                            f"{host.cpu_model} host ({host.logical_cores} logical cores, {host.machine})",
                            [d for d, *_ in described])
    return iri, out
