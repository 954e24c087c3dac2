"""The machine this process runs on, as ``dlom:BenchmarkHost`` devices in the knowledge graph.

A DLOM server (and ``dlom bench`` / ``dlom loop``) describes its host from the real fingerprint
(:func:`bench.device.host_fingerprint`) and the device settings it measures with
(:data:`HOST_SETTINGS`): the unconstrained host, and the reference setting of DLOM's sweeps (one
intra-op thread pinned to core 0, the setting the shipped sweep was measured with). They are written
once through the validated write path; a second call with the same fingerprint writes nothing. So a
fresh install can propose, predict and measure for "this machine" before anything was measured here.
"""
from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import NamedNode

from bench.device import DeviceSetting, HostFingerprint, host_fingerprint
from bench.host_graph import host_device_triples
from kg.binding import bind
from kg.namespaces import DLOM
from kg.store import Store
from kg.writes import write_triples

REFERENCE_SETTING = DeviceSetting(threads=1, cores=(0,))
"""One intra-op thread on core 0: the setting DLOM's sweeps measure with, and the one a configuration
proposed for another device is re-targeted to ('the same configuration on this machine')."""

HOST_SETTINGS: tuple[DeviceSetting, ...] = (DeviceSetting(), REFERENCE_SETTING)


@dataclass(frozen=True)
class HostDevice:
    """One device of this host: its IRI, label and the setting a measurement on it runs with."""

    iri: str
    label: str
    setting: DeviceSetting


def host_devices(host: HostFingerprint | None = None) -> dict[str, HostDevice]:
    """This host's devices (one per :data:`HOST_SETTINGS` entry), by IRI."""
    host = host or host_fingerprint()
    return {s.device_iri(host).value: HostDevice(s.device_iri(host).value, s.device_label(host), s)
            for s in HOST_SETTINGS}


def reference_device(host: HostFingerprint | None = None) -> HostDevice:
    """The device a configuration is re-targeted to when it is to be measured 'on this machine'."""
    host = host or host_fingerprint()
    return host_devices(host)[REFERENCE_SETTING.device_iri(host).value]


def _described(store: Store, device: NamedNode) -> bool:
    return store.ask(bind("ASK WHERE { ?d a ?c }", {"d": device, "c": DLOM.BenchmarkHost}))


def register_host(store: Store, host: HostFingerprint | None = None) -> list[str]:
    """Describe this host and its settings in ``store`` when they are not there yet, in one validated
    write. Returns the IRIs of the devices it wrote (empty when all were already described)."""
    host = host or host_fingerprint()
    triples, written = [], []
    for setting in HOST_SETTINGS:
        iri, described = host_device_triples(host, setting)
        if not _described(store, iri):
            triples += described
            written.append(iri.value)
    if triples:
        # The host node appears in every setting's description: write each triple once.
        write_triples(store, list(dict.fromkeys(triples)), source=f"this host ({host.label})")
    return written


__all__ = ["HOST_SETTINGS", "REFERENCE_SETTING", "HostDevice", "host_devices", "reference_device", "register_host"]
