"""The decision-support 'Build new' path (Fig. 6): a proposal the user picks is recorded as a predicted
model and, when this host can run it with the benchmark module, measured in a background job.

* :class:`JobRegistry` — a small thread-based job runner: one worker thread runs jobs one at a time (a
  benchmark saturates the few cores a DLOM host has), each job reports ``progress`` in [0, 1] and a
  message through a callback; finished jobs stay readable by id.
* :func:`rescored_candidate` — the server's own prediction for a (DLN, device, techniques)
  configuration. A client sends back a proposal it received, but what is *stored* as the prediction is
  recomputed here, so a client can never write made-up 'predicted' figures into the graph.
* :func:`measurement_plan` — whether a predicted model can be measured on this host, and the bench spec
  that measures it (the same rule as :mod:`gnn.loop`: the device must be one the benchmark recorded on
  this host, the bench must be able to rebuild the network and techniques — and, checked here as
  well, the bench run on this host must land on that very device).
* :func:`measure_predicted_model` — the job body: run the benchmark (which writes the measured model
  and its dlom:MeasuredPerformance through the validated write path) and read the measured metrics
  back from the store.

Nothing is faked: a proposal that cannot run here ends with :class:`NotRunnableHere` and a message
saying why.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pyoxigraph import NamedNode

from decision.prediction import PREDICTABLE_METRICS, PredictedCandidate
from kg.binding import bind
from kg.namespaces import SPARQL_PREFIXES
from kg.results import Solutions
from kg.store import Store
from kg.terms import to_python

log = logging.getLogger("dlom.build_new")

JobState = Literal["queued", "running", "succeeded", "failed"]
ProgressCallback = Callable[[float, str], None]
"""``report(progress, message)``: progress in [0, 1] (clamped) and what the job is doing now."""


class ProposalError(ValueError):
    """A proposal that does not name a configuration the predictor knows; ``field`` names the part."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name


class NotRunnableHere(Exception):
    """The configuration cannot be measured on this host; the message says why."""


@dataclass
class Job:
    """One background job. Read it through :meth:`JobRegistry.snapshot` (a consistent copy)."""

    id: str
    description: str
    status: JobState = "queued"
    progress: float = 0.0
    message: str = "queued"
    result: dict[str, Any] = field(default_factory=dict)
    created: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    finished: dt.datetime | None = None


JobBody = Callable[[ProgressCallback, dict[str, Any]], str]
"""A job's work: gets the progress callback and its (mutable) result dict; returns the final message.
Raising :class:`NotRunnableHere` or any exception fails the job with that message."""


class JobRegistry:
    """Runs submitted jobs one at a time on a daemon worker thread, keeping the last ``keep`` jobs."""

    def __init__(self, keep: int = 200) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._queue: queue.Queue[tuple[Job, JobBody]] = queue.Queue()
        self._keep = keep
        self._worker: threading.Thread | None = None

    def submit(self, description: str, body: JobBody, result: Mapping[str, Any] | None = None) -> str:
        """Queue ``body``; returns the job id at once. ``result`` seeds the job's result (e.g. the
        predicted figures, shown while the job runs)."""
        job = Job(id=uuid.uuid4().hex, description=description, result=dict(result or {}))
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self._keep:  # forget the oldest finished job
                oldest = next((j for j in self._jobs.values() if j.finished is not None), None)
                if oldest is None:
                    break
                del self._jobs[oldest.id]
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, daemon=True, name="dlom-jobs")
                self._worker.start()
        self._queue.put((job, body))
        return job.id

    def snapshot(self, job_id: str) -> Job | None:
        """A copy of the job's current state (None for an unknown id)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            return Job(job.id, job.description, job.status, job.progress, job.message, dict(job.result),
                       job.created, job.finished)

    def _update(self, job: Job, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(job, k, v)

    def _run(self) -> None:
        while True:
            job, body = self._queue.get()
            self._update(job, status="running", message="started")

            def report(progress: float, message: str, job: Job = job) -> None:
                self._update(job, progress=min(1.0, max(0.0, float(progress))), message=message)

            result = dict(job.result)
            try:
                message = body(report, result)
            except NotRunnableHere as e:
                self._update(job, status="failed", message=str(e), result=result,
                             finished=dt.datetime.now(dt.timezone.utc))
            except Exception as e:  # noqa: BLE001 - a failed job is reported through its status, never lost
                log.exception("job %s (%s) failed", job.id, job.description)
                self._update(job, status="failed", message=f"{type(e).__name__}: {e}", result=result,
                             finished=dt.datetime.now(dt.timezone.utc))
            else:
                self._update(job, status="succeeded", progress=1.0, message=message, result=result,
                             finished=dt.datetime.now(dt.timezone.utc))
            finally:
                self._queue.task_done()


# -- the server's own prediction for a configuration ------------------------------------------------

def rescored_candidate(predictor: Any, dln: str, devices: Sequence[str], techniques: Sequence[str]) -> PredictedCandidate:
    """The predictor's prediction for exactly this configuration (one device), as stored.

    ``predictor`` is a :class:`gnn.onnx_scorer.OnnxCandidatePredictor` (it has the exported ``graph``
    and the ``scorer``). Raises :class:`ProposalError` naming the field when the DLN, device or a
    technique is not one the predictor's graph knows, or when not exactly one device is given."""
    import numpy as np

    from gnn.propose import Candidate, Proposal, candidate_batch, memory_fit, predicted_candidate

    graph = getattr(predictor, "graph", None)
    scorer = getattr(predictor, "scorer", None)
    if graph is None or scorer is None:
        raise ProposalError("proposal", "this server's predictor cannot score a single configuration")
    if len(devices) != 1:
        raise ProposalError("proposal.devices", f"a proposal names exactly one device, got {len(devices)}")
    d = graph.index["dln"].get(dln)
    if d is None:
        raise ProposalError("proposal.dln", f"unknown DLN <{dln}>: not in the graph the predictor was built from")
    v = graph.index["device"].get(devices[0])
    if v is None:
        raise ProposalError("proposal.devices", f"unknown device <{devices[0]}>: not in the graph the predictor was built from")
    ts = []
    for i, t in enumerate(techniques):
        row = graph.index["technique"].get(t)
        if row is None:
            raise ProposalError(f"proposal.techniques.{i}", f"unknown technique <{t}>: not in the graph the predictor was built from")
        ts.append(row)
    fit, wb = memory_fit(graph, d, v, ts)
    cand = Candidate(d, v, tuple(sorted(ts)), fit, wb)
    pred = scorer.score(candidate_batch(graph, [cand]))
    proposal = Proposal(
        rank=1, dln_iri=dln, dln_label=graph.labels["dln"][d], device_iri=devices[0], device_label=graph.labels["device"][v],
        technique_iris=tuple(graph.iris["technique"][t] for t in cand.techniques),
        technique_labels=tuple(graph.labels["technique"][t] for t in cand.techniques),
        latency_ms=float(pred.latency_ms[0]), accuracy=float(pred.accuracy[0]), energy_uj=float(pred.energy_uj[0]),
        std={"ln_latency_ms": float(pred.std[0, 0]), "accuracy": float(pred.std[0, 1]), "ln_energy_uj": float(pred.std[0, 2])},
        confidence=float(np.clip(pred.confidence[0], 0.0, 1.0)), high_score_probability=float(pred.high_score[0]),
        score=float("nan"), memory_fit=fit, weight_bytes=wb)
    candidate = predicted_candidate(proposal, predictor.version)
    candidate.notes.pop("eq1_score", None)  # Eq. 1 is relative to a candidate set; a lone rescore has none
    return candidate


# -- measuring on this host -------------------------------------------------------------------------

_TECHNIQUE_PARAMETERS = SPARQL_PREFIXES + "SELECT ?t ?p WHERE { ?t dlom:parameters ?p }"


class Measurability:
    """Which configurations this host's benchmark can rebuild and measure — the checks
    :func:`measurement_plan` makes, without storing anything — read from the store once."""

    def __init__(self, store: Store) -> None:
        self.devices: set[str] = set()
        self._techniques: dict[str, bool] = {}
        self._unavailable: str | None = None
        try:
            from bench.networks.registry import network_for_dln
            from gnn.loop import _bench_runtime_by_device
        except ImportError as e:
            self._unavailable = f"the benchmark module is unavailable on this server ({e})"
            return
        self._network_for_dln = network_for_dln
        self.devices = set(_bench_runtime_by_device(store))
        if not self.devices:
            return
        res = store.query(_TECHNIQUE_PARAMETERS)
        assert isinstance(res, Solutions)
        for t, params in res.rows:
            try:
                data = json.loads(params.value)  # type: ignore[union-attr]
            except json.JSONDecodeError:
                continue
            self._techniques[t.value] = isinstance(data, dict) and "technique" in data  # type: ignore[union-attr]

    def why_not(self, dln: str, device: str, techniques: Sequence[str]) -> str | None:
        """None when the benchmark here can measure the configuration; else the reason it cannot."""
        if self._unavailable:
            return self._unavailable
        if device not in self.devices:
            return "its device is not one the benchmark measured on this host"
        if self._network_for_dln(dln) is None:
            return "the benchmark cannot build its network (not a registered reference network)"
        missing = [t for t in techniques if not self._techniques.get(t)]
        if missing:
            return f"the benchmark has no implementation to re-apply {len(missing)} of its techniques"
        return None


def measurability_of(store: Store, candidates: Sequence[PredictedCandidate]) -> list[str | None]:
    """For each predicted configuration: None when this host's benchmark can measure it, else why not."""
    measurability = Measurability(store)
    return [measurability.why_not(c.dln, c.devices[0], c.techniques) if len(c.devices) == 1
            else "it names more than one device" for c in candidates]


@dataclass(frozen=True)
class MeasurementPlan:
    """A validated bench spec that measures the predicted model on this host."""

    spec: Any  # bench.spec.BenchSpec
    device: str


def measurement_plan(store: Store, predicted_model: str, device: str,
                     overrides: Mapping[str, Any] | None = None) -> MeasurementPlan:
    """The bench spec measuring ``predicted_model`` (deployed on ``device``) here, or
    :class:`NotRunnableHere` saying why not. ``overrides`` replaces top-level spec sections (e.g. a
    shorter ``training`` or ``measure`` for quick runs); the run records the settings it used."""
    try:
        from bench import graph as bench_graph
        from bench.device import host_fingerprint
        from bench.spec import parse_spec
        from gnn.loop import _bench_runtime_by_device
    except ImportError as e:
        raise NotRunnableHere(f"not measured: the benchmark module is unavailable on this server ({e})") from None
    runtimes = _bench_runtime_by_device(store)
    if device not in runtimes:
        raise NotRunnableHere(f"not measured: the device <{device}> is not one the benchmark measured on this host, "
                              "so this server cannot run the configuration; the proposal stays a prediction")
    try:
        raw = dict(bench_graph.spec_from_model(store, NamedNode(predicted_model)))
        raw.update(runtimes[device])
        raw.update(dict(overrides or {}))
        spec = parse_spec(raw, file=f"<proposal {predicted_model}>")
    except Exception as e:  # a network or technique the bench cannot rebuild is a reason, not a crash
        raise NotRunnableHere(f"not measured: the benchmark cannot rebuild this configuration ({e})") from None
    here = spec.setting.device_iri(host_fingerprint()).value
    if here != device:
        raise NotRunnableHere(f"not measured: the benchmark on this host would measure on <{here}>, not on the "
                              f"proposed device <{device}> (a different machine)")
    return MeasurementPlan(spec=spec, device=device)


def measured_metrics(store: Store, model: str) -> dict[str, float]:
    """The stored dlom:MeasuredPerformance values of ``model`` (ontology property names)."""
    res = store.query(bind(SPARQL_PREFIXES + """
        SELECT ?prop ?value WHERE { ?m dlom:hasPerformance ?p . ?p a dlom:MeasuredPerformance ; ?prop ?value .
                                    FILTER(isLiteral(?value)) }""", {"m": NamedNode(model)}))
    assert isinstance(res, Solutions)
    out: dict[str, float] = {}
    for prop, value in res.rows:
        name = prop.value.rsplit("#", 1)[-1]
        v = to_python(value)
        if name in PREDICTABLE_METRICS or name in ("stability", "throughputIps"):
            if isinstance(v, int | float) and not isinstance(v, bool):
                out[name] = float(v)
    return out


def measure_predicted_model(store: Store, predicted_model: str, device: str, report: ProgressCallback,
                            result: dict[str, Any], overrides: Mapping[str, Any] | None = None) -> str:
    """Job body: plan, run the benchmark (it writes the measured model through the validated write
    path), and put ``model`` (the measured model's IRI) and ``metrics`` (measured values read back from
    the store) into ``result``. Raises :class:`NotRunnableHere` when it cannot run here."""
    report(0.05, "checking whether this host can run the configuration")
    plan = measurement_plan(store, predicted_model, device, overrides)
    from bench import graph as bench_graph
    from bench.harness import run_benchmark

    report(0.15, f"training, optimizing and measuring: {plan.spec.describe()}")
    bench_result = run_benchmark(plan.spec, store=store)
    report(0.95, "reading the measurement back from the knowledge graph")
    model = bench_graph.model_iri(plan.spec.network.name, bench_result.key).value
    result["model"] = model
    result["metrics"] = measured_metrics(store, model)
    return f"measured on this host and stored as {model}"
