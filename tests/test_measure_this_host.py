"""Build new → measure on a machine that did not build the shipped graph: a simulated host.

``DLOM_HOST_PROC`` points the fingerprint at a made-up ``cpuinfo`` / ``meminfo`` (another CPU model, 4
logical cores, 8 GiB), so the server runs as a machine nobody measured on. What must hold there, as on
any user's machine:

* the server describes that host (and its reference setting) as ``dlom:BenchmarkHost`` devices at
  start, once (a second start writes nothing);
* proposals say ``measurable_here`` exactly when the job then measures: the shipped sweep's devices
  (another machine) are not measurable here, this host's are;
* a proposal for another machine offers ``on_this_machine``, and measuring with it really builds and
  measures the same network and techniques here, stored with provenance, beside the prediction.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from bench.device import HOST_PROC_ENV, host_fingerprint
from kg.binding import bind
from kg.namespaces import SPARQL_PREFIXES
from kg.store import Store
from measure.host import host_devices, reference_device, register_host
from measure.build_new import measure_configuration
from test_build_new import (AD_REFERENCE_DLN, FAST_MEASUREMENT, RUNNABLE_REQUIREMENTS, TOKEN, build_new_server, http,
                            performance_types, wait_for_job)

SIMULATED_CPU = "Simulated Cortex-A76 test host"
CPUINFO = "".join(f"processor\t: {i}\nmodel name\t: {SIMULATED_CPU}\nFeatures\t: fp asimd asimddp\n\n" for i in range(4))
MEMINFO = "MemTotal:        8000000 kB\nMemFree:         4000000 kB\n"
QUICK = ("Fine-tuning", "distillation", "pruning")  # techniques that train: too slow for a test


@pytest.fixture(scope="module")
def simulated_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    proc = tmp_path_factory.mktemp("proc")
    (proc / "cpuinfo").write_text(CPUINFO)
    (proc / "meminfo").write_text(MEMINFO)
    mp = pytest.MonkeyPatch()
    mp.setenv(HOST_PROC_ENV, str(proc))
    host_fingerprint.cache_clear()
    yield proc
    mp.undo()
    host_fingerprint.cache_clear()


@pytest.fixture(scope="module")
def server(simulated_host: Path) -> Iterator[tuple[str, Store]]:
    yield from build_new_server()


def test_fingerprint_is_the_simulated_host(simulated_host: Path) -> None:
    host = host_fingerprint()
    assert host.cpu_model == SIMULATED_CPU and host.logical_cores == 4 and host.memory_kb == 8000000
    assert host.isa_flags == ("asimd", "asimddp")
    assert all(SIMULATED_CPU in d.label for d in host_devices().values())


def test_server_describes_the_simulated_host_once(server: tuple[str, Store]) -> None:
    _, store = server
    res = store.select(SPARQL_PREFIXES + """SELECT ?d ?cores WHERE { ?d a dlom:BenchmarkHost ; dlom:processor ?cpu ;
                                                     dlom:cpuCores ?cores ; dlom:hardware ?hw . ?hw a dlom:Hardware }""")
    described = {d.value: int(c.value) for d, c in res.rows if d.value in host_devices()}
    assert described == {reference_device().iri: 1, host_fingerprint().iri.value: 4}
    assert register_host(store) == []  # idempotent: nothing new to write


def test_shipped_sweep_devices_are_not_this_machine(server: tuple[str, Store]) -> None:
    url, _ = server
    code, body = http("POST", url + "/api/proposals?limit=50", RUNNABLE_REQUIREMENTS)
    assert code == 200 and body["proposals"], body
    here = set(host_devices())
    elsewhere = [p for p in body["proposals"] if p["devices"][0] not in here]
    assert elsewhere, "the shipped sweep's (other machine's) devices are proposed too"
    assert all(p["measurable_here"] is False for p in elsewhere)
    assert any(p["not_measurable_because"].startswith("its device is not this machine") for p in elsewhere)
    for p in body["proposals"]:
        if p["measurable_here"]:
            assert p["devices"][0] in here and p["on_this_machine"] is None


def test_measurable_proposal_is_measured_on_the_simulated_host(server: tuple[str, Store]) -> None:
    url, store = server
    code, body = http("POST", url + "/api/proposals?limit=50&measurable_only=true", RUNNABLE_REQUIREMENTS)
    assert code == 200 and body["proposals"], body
    proposal = next(p for p in body["proposals"] if not any(s in p["label"] for s in QUICK))
    assert proposal["devices"] == [reference_device().iri]
    code, accepted = http("POST", url + "/api/measurements", {"proposal": proposal}, token=TOKEN)
    assert code == 202, accepted
    job, _ = wait_for_job(url, accepted["status_url"])
    assert job["status"] == "succeeded", job
    model = job["result"]["model"]
    assert performance_types(store, model) == {"MeasuredPerformance"}
    res = store.select(bind(SPARQL_PREFIXES + "SELECT ?d WHERE { ?m dlom:deployedOn ?d }", {"m": NamedNode(model)}))
    assert [d.value for (d,) in res.rows] == [reference_device().iri]


def test_another_machines_proposal_is_measured_on_this_machine_instead(server: tuple[str, Store]) -> None:
    url, store = server
    _, body = http("POST", url + "/api/proposals?limit=50", RUNNABLE_REQUIREMENTS)
    offered = [p for p in body["proposals"] if p["on_this_machine"] and not any(s in p["label"] for s in QUICK)]
    assert offered, "a proposal for the shipped sweep's machine can be measured on this one instead"
    proposal = offered[0]
    assert proposal["measurable_here"] is False
    assert proposal["on_this_machine"] == {"device": reference_device().iri, "label": reference_device().label}
    # without on_this_machine the job refuses, as the listing said
    code, accepted = http("POST", url + "/api/measurements", {"proposal": proposal}, token=TOKEN)
    job, _ = wait_for_job(url, accepted["status_url"], timeout_s=60)
    assert job["status"] == "failed" and job["message"] == f"not measured: {proposal['not_measurable_because']}"
    # with it, the same network and techniques are predicted for and measured on this machine
    code, accepted = http("POST", url + "/api/measurements", {"proposal": proposal, "on_this_machine": True}, token=TOKEN)
    assert code == 202, accepted
    assert accepted["predicted"]["devices"] == [reference_device().iri]
    assert accepted["predicted"]["dln"] == proposal["dln"]
    assert sorted(accepted["predicted"]["techniques"]) == sorted(proposal["techniques"])
    job, seen = wait_for_job(url, accepted["status_url"])
    assert job["status"] == "succeeded", job
    assert seen == sorted(seen)
    result = job["result"]
    assert result["predicted"]["inferenceLatencyMs"] > 0 and result["metrics"]["inferenceLatencyMs"] > 0
    assert performance_types(store, accepted["predicted_model"]) == {"PredictedPerformance"}
    res = store.select(bind(SPARQL_PREFIXES + """SELECT ?d ?run WHERE { ?m dlom:deployedOn ?d ; dlom:hasPerformance ?p .
                                                 ?p prov:wasGeneratedBy ?run . ?run a dlom:BenchmarkRun }""",
                            {"m": NamedNode(result["model"])}))
    rows = list(res.rows)  # measured with provenance: the benchmark run that produced it
    assert rows and {d.value for d, _ in rows} == {reference_device().iri}


def test_on_this_machine_is_refused_for_what_cannot_run_here(server: tuple[str, Store]) -> None:
    url, _ = server
    _, body = http("POST", url + "/api/proposals?limit=5", {"project": {"device_types": ["GAP9"]}})
    proposal = next(p for p in body["proposals"] if p["on_this_machine"] is None)
    code, answer = http("POST", url + "/api/measurements", {"proposal": proposal, "on_this_machine": True}, token=TOKEN)
    assert code == 422 and answer["errors"][0]["field"] == "on_this_machine"


def test_a_measurement_reports_its_phases(server: tuple[str, Store]) -> None:
    """The job body reports the benchmark's real phases in order (what the UI's progress bar shows)."""
    _, store = server
    device = reference_device().iri
    heard: list[tuple[float, str]] = []
    result: dict = {}
    message = measure_configuration(store, AD_REFERENCE_DLN, device, [], lambda f, m: heard.append((f, m)), result,
                                    FAST_MEASUREMENT)
    assert message.startswith("measured on this host") and result["metrics"]["inferenceLatencyMs"] > 0
    fractions = [f for f, _ in heard]
    assert fractions == sorted(fractions) and fractions[-1] >= 0.95 and len(set(fractions)) >= 5
    phases = " / ".join(m for _, m in heard)
    for phase in ("training", "evaluating quality", "measuring latency", "writing the measurement"):
        assert phase in phases
