"""Whether a configuration can be measured on this machine, and the bench spec that measures it.

One decision, :meth:`MeasurementPlanner.plan`, serves everyone who asks: the proposal listings
(``measurable_here`` / ``not_measurable_because``), the measurement job and the closed loop. A
configuration (a DLN, one device, techniques) is measurable here exactly when, checked in this order
(the first that fails is the reason given),

1. the benchmark module is installed and can build the DLN: a registered network, or a variant the
   benchmark itself derived from one (a pruned, decomposed or distilled network, whose recording run's
   spec says how: the same network and steps are rebuilt first);
2. every technique carries the parameters the benchmark recorded for it (``dlom:parameters`` with a
   ``technique`` name), so it can be re-applied;
3. its device is one of this host's devices (:func:`measure.host.host_devices`, from the real — or
   simulated — fingerprint), so the run lands on the very device that was proposed;
4. the resulting spec passes :func:`bench.spec.parse_spec` (runtime, device setting, step order).

A configuration proposed for another device can be measured *on this machine* instead:
:meth:`MeasurementPlanner.on_this_machine` re-targets it to the host's reference setting when the
same network and techniques pass the checks there.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.device import HostFingerprint, host_fingerprint
from kg.namespaces import SPARQL_PREFIXES
from kg.store import Store
from measure.host import HostDevice, host_devices, reference_device

NOT_THIS_MACHINE = "its device is not this machine"
_TECHNIQUE_PARAMETERS = SPARQL_PREFIXES + """
    SELECT ?t ?p ?i WHERE { ?t dlom:parameters ?p . OPTIONAL { ?t dlom:sequenceIndex ?i } }"""
_VARIANT_RECIPES = SPARQL_PREFIXES + """
    SELECT ?dln ?r WHERE { ?dln dlom:derivedFromDLN ?base . ?m dlom:usesDLN ?dln ; dlom:sourceRecord ?r } ORDER BY ?dln ?m"""


class NotRunnableHere(Exception):
    """The configuration cannot be measured on this host; the message says why."""


@dataclass(frozen=True)
class MeasurementPlan:
    """A validated bench spec that measures a configuration on ``device`` (an IRI of this host)."""

    spec: Any  # bench.spec.BenchSpec (the bench is imported lazily: it needs torch)
    device: str


class MeasurementPlanner:
    """Plans measurements on this host over what ``store`` holds; reads the techniques' recorded
    parameters once, so a listing of many proposals costs one query."""

    def __init__(self, store: Store, host: HostFingerprint | None = None,
                 overrides: Mapping[str, Any] | None = None) -> None:
        self.host = host or host_fingerprint()
        self.devices: dict[str, HostDevice] = host_devices(self.host)
        self.overrides = dict(overrides or {})
        self._store = store
        self._steps: dict[str, tuple[int, dict[str, Any]]] | None = None
        self._recipes: dict[str, tuple[str, list[dict[str, Any]]]] | None = None

    def _variant_recipes(self) -> dict[str, tuple[str, list[dict[str, Any]]]]:
        """Variant DLN IRI → (network name, the steps that derived it), from the bench spec recorded by
        the run that first deployed the variant."""
        if self._recipes is None:
            recipes: dict[str, tuple[str, list[dict[str, Any]]]] = {}
            res = self._store.select(_VARIANT_RECIPES)
            for dln, record in res.rows:
                if dln.value in recipes:
                    continue
                try:
                    spec = json.loads(record.value).get("bench_spec")  # type: ignore[union-attr]
                except (json.JSONDecodeError, AttributeError):
                    continue
                if isinstance(spec, dict) and isinstance(spec.get("network"), str):
                    recipes[dln.value] = (spec["network"], [dict(t) for t in spec.get("techniques") or []])
            self._recipes = recipes
        return self._recipes

    def _technique_steps(self) -> dict[str, tuple[int, dict[str, Any]]]:
        """Technique IRI → (sequence index, bench step) for every technique the bench can re-apply."""
        if self._steps is None:
            steps: dict[str, tuple[int, dict[str, Any]]] = {}
            res = self._store.select(_TECHNIQUE_PARAMETERS)
            for t, params, index in res.rows:
                try:
                    data = json.loads(params.value)  # type: ignore[union-attr]
                except json.JSONDecodeError:
                    continue
                if isinstance(data, dict) and isinstance(data.get("technique"), str):
                    step = {k: v for k, v in data.items() if k != "technique"}
                    steps[t.value] = (int(index.value) if index is not None else 0,  # type: ignore[union-attr]
                                      {"name": data["technique"], **step})
            self._steps = steps
        return self._steps

    def _recipe(self, dln: str, techniques: Sequence[str]) -> tuple[str, list[dict[str, Any]]]:
        """Checks 1 and 2 of the module docstring: the bench network's name and the steps that derive
        the DLN from it, or :class:`NotRunnableHere` saying why the bench cannot build it."""
        try:
            from bench.networks.registry import network_for_dln
        except ImportError as e:
            raise NotRunnableHere(f"the benchmark module is unavailable on this server ({e}); "
                                  "install the 'bench' extra: pip install 'dlom[bench]'") from None
        network = network_for_dln(dln)
        if network is not None:
            name, derivation = network.name, []
        elif dln in self._variant_recipes():
            name, derivation = self._variant_recipes()[dln]
        else:
            raise NotRunnableHere(f"the benchmark cannot rebuild this configuration: its DLN <{dln}> is not a network "
                                  "the bench can build (neither a registered reference network nor a variant it derived)")
        known = self._technique_steps()
        missing = [t for t in techniques if t not in known]
        if missing:
            raise NotRunnableHere(f"the benchmark cannot rebuild this configuration: it has no implementation to "
                                  f"re-apply {len(missing)} of its {len(techniques)} techniques")
        return name, derivation

    def buildable_why_not(self, dln: str, techniques: Sequence[str]) -> str | None:
        """None when the bench can build the network and re-apply the techniques (on some device of a
        host, not necessarily this one's), else why not: a configuration on a benchmark host can only
        ever be run by the bench, so one it cannot build is no real configuration."""
        try:
            self._recipe(dln, techniques)
        except NotRunnableHere as e:
            return str(e)
        return None

    def plan(self, dln: str, device: str, techniques: Sequence[str]) -> MeasurementPlan:
        """The plan measuring the configuration here, or :class:`NotRunnableHere` saying why not."""
        name, derivation = self._recipe(dln, techniques)
        from bench.errors import SpecError
        from bench.spec import parse_spec

        known = self._technique_steps()
        here = self.devices.get(device)
        if here is None:
            raise NotRunnableHere(f"{NOT_THIS_MACHINE} (this server measures on {reference_device(self.host).label})")
        ordered = sorted(techniques, key=lambda t: (known[t][0], t))
        setting = here.setting
        steps = list(derivation)
        steps += [dict(known[t][1]) for t in ordered if known[t][1] not in derivation]
        raw: dict[str, Any] = {
            "network": name, "techniques": steps,
            "runtime": {"name": "onnxruntime", "device": setting.device, "threads": setting.threads,
                        "cores": list(setting.cores) if setting.cores is not None else None}}
        raw.update(self.overrides)
        try:
            spec = parse_spec(raw, file=f"<configuration of {dln} on {device}>")
        except SpecError as e:
            raise NotRunnableHere(f"the benchmark cannot rebuild this configuration ({e})") from None
        if spec.setting.device_iri(self.host).value != device:  # the spec's setting must be the proposed device
            raise NotRunnableHere(f"{NOT_THIS_MACHINE}: a run would land on <{spec.setting.device_iri(self.host).value}>")
        return MeasurementPlan(spec=spec, device=device)

    def why_not(self, dln: str, device: str, techniques: Sequence[str]) -> str | None:
        """None when :meth:`plan` succeeds for the configuration, else its reason."""
        try:
            self.plan(dln, device, techniques)
        except NotRunnableHere as e:
            return str(e)
        return None

    def on_this_machine(self, dln: str, techniques: Sequence[str]) -> HostDevice | None:
        """This host's reference device when the same network and techniques can be measured there."""
        target = reference_device(self.host)
        return target if self.why_not(dln, target.iri, techniques) is None else None
