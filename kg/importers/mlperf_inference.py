"""Importer of MLPerf Inference results as MLCommons publishes them (rounds v0.5 to v3.0 and later).

Layout read, per round (a clone of ``github.com/mlcommons/inference_results_vX.Y``)::

    <round>/README.md                                        the round ("MLPerf Inference v2.1 results")
    <round>/<division>/<submitter>/systems/<system>.json     the system description
    <round>/<division>/<submitter>/measurements/<system>/<model>/<scenario>/*.json
                                                             data types, retraining, weight transformations
    <round>/<division>/<submitter>/results/<system>/<model>/<scenario>/performance/run_1/mlperf_log_summary.txt
    <round>/<division>/<submitter>/results/<system>/<model>/<scenario>/accuracy/accuracy.txt

``path`` is one round folder, a folder of round folders, a round packed as ``.tar.gz`` (read as a
stream, never unpacked to disk) or a folder of such archives. A round's name comes from ``--round``
(``round_name``), else its README's title, else its folder name when that ends in ``vX.Y``
(``inference_results_v2.1``, ``v2.1``); a round whose name none of them gives is refused
(:class:`InputError`), never named after an arbitrary folder.

What it writes (terms in ``kg/ontology/dlom.ttl``, documented in ``docs/mlperf-inference.md``):

* each system JSON → ``system_type`` edge: a ``dlom:EndDevice``; datacenter: a ``dlom:CloudConfiguration``
  (the server-configurations repository); "datacenter,edge": one node typed both. v0.5 published no
  ``system_type``: such a system is an end device when :data:`kg.hardware.HARDWARE_RULES` knows its
  product as a board, module, phone or laptop, else a cloud configuration, and its ``rdfs:comment``
  says so. Each links to its ``dlom:Hardware`` (:func:`kg.hardware.identify_hardware`).
* each (round, division, submitter, system, model folder, scenario) with a performance summary → a
  ``dlom:Model`` (its DLN, the accuracy target of a ``-99``/``-99.9`` folder, its techniques) and a
  ``dlom:MeasuredPerformance`` with the figure of the summary's own ``Scenario :`` line (SingleStream:
  90th percentile latency and the early-stopping estimate; MultiStream: 99th percentile latency, or
  samples per query before v2.0; Offline: samples per second; Server: scheduled samples per second
  and its latency bound), the result's validity and the accuracy with its metric, with PROV-O
  provenance to each file used.
* techniques from the measurement JSON: weight data types below fp32 → ``dlom:Quantization`` with
  bit width, stated retraining → ``dlom:FineTuning``, stated sparsity (and the open division's pruned
  model names) → ``dlom:Pruning``, weight transformations as published → ``dlom:OptimizationTechnique``;
  the system's framework → ``dlom:Framework`` (with the products it names, ``dlom:frameworkFamily``) and the
  compilers it names → ``dlom:HardwareOptimization``.

Contract: everything is read and checked before anything is written, in one
:func:`kg.writes.write_triples` call (which takes the bulk path for a large write). A malformed
system JSON raises :class:`InputError` with file and line; a summary that is truncated (no result
line), names an unknown scenario or has no figure for its scenario, an unreadable accuracy file and a
file the layout does not place are listed in :attr:`ImportReport.skipped` with the reason.
"""
from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode

from kg.errors import InputError
from kg.framework_names import add_framework
from kg.hardware import identify_hardware
from kg.importers import ImportReport, register_importer
from kg.importers.mlperf_tiny import (
    DCTERMS, HardwareCollector, IriRegistry, SystemRecord, match_system, parse_system_json, quantity,
    source_file,
)
from kg.namespaces import DLOM, PROV, RDF, RDFS, XSD, entity
from kg.progress import NoProgress, Progress
from kg.store import Store
from kg.terms import literal
from kg.writes import TripleBuilder, write_triples

SOURCE = "mlperf-inference"
ROUND_IN_NAME = re.compile(r"(?:^|[_-])(v\d+\.\d+)$")
ROUND_IN_README = re.compile(r"MLPerf\W{0,3}\s*Inference\s+(v\d+\.\d+)", re.IGNORECASE)
DIVISIONS = ("closed", "open", "network")
ROUND_YEARS = {"v0.5": 2019, "v0.7": 2020, "v1.0": 2021, "v1.1": 2021, "v2.0": 2022, "v2.1": 2022, "v3.0": 2023,
               "v3.1": 2023, "v4.0": 2024, "v4.1": 2024, "v5.0": 2025}

SCENARIOS = {"singlestream": "SingleStream", "multistream": "MultiStream", "offline": "Offline", "server": "Server"}
# The scenario a summary reports, as its percentile: SingleStream p90, MultiStream p99 (v2.0 on).
_NS_TO_MS = Decimal("0.000001")


@dataclass(frozen=True)
class Network:
    """What the MLPerf Inference rules fix about a benchmark network."""

    label: str
    family: str
    task: str
    dataset: str


# Closed-division benchmark folders (the reference network of each); the open division's variants are
# DLNs named by their folder. Parameters and MACs are left unknown: DLOM's bench registry defines none
# of these networks at their benchmark input size, and nothing is copied from elsewhere.
NETWORKS: dict[str, Network] = {
    "resnet50": Network("ResNet-50 v1.5 (MLPerf Inference reference)", "ResNet", "image classification",
                        "ImageNet 2012 validation"),
    "mobilenet": Network("MobileNet v1 1.0 224 (MLPerf Inference v0.5 reference)", "MobileNetV1",
                         "image classification", "ImageNet 2012 validation"),
    "ssd-mobilenet": Network("SSD-MobileNet v1 300x300 (MLPerf Inference reference)", "SSD", "object detection",
                             "COCO 2017 validation"),
    "ssd-resnet34": Network("SSD-ResNet34 1200x1200 (MLPerf Inference reference)", "SSD", "object detection",
                            "COCO 2017 validation"),
    "retinanet": Network("RetinaNet ResNeXt50 800x800 (MLPerf Inference reference)", "RetinaNet", "object detection",
                         "OpenImages (MLPerf subset)"),
    "gnmt": Network("GNMT (MLPerf Inference v0.5 reference)", "RNN encoder-decoder", "machine translation",
                    "WMT16 English-German"),
    "bert": Network("BERT-Large (MLPerf Inference reference)", "Transformer", "question answering", "SQuAD v1.1"),
    "rnnt": Network("RNN-T (MLPerf Inference reference)", "RNN transducer", "speech recognition",
                    "LibriSpeech dev-clean"),
    "3d-unet": Network("3D U-Net (MLPerf Inference reference)", "U-Net", "medical image segmentation",
                       "BraTS 2019 (v0.7-v1.1) / KiTS19 (v2.0 on)"),
    "dlrm": Network("DLRM (MLPerf Inference reference)", "DLRM", "recommendation", "Criteo Terabyte"),
}
# Folder names of the closed benchmarks across rounds (v0.5 'resnet', 'ssd-small', 'ssd-large').
NETWORK_FOLDERS = {"resnet": "resnet50", "resnet50": "resnet50", "mobilenet": "mobilenet",
                   "ssd-small": "ssd-mobilenet", "ssd-mobilenet": "ssd-mobilenet", "ssd-large": "ssd-resnet34",
                   "ssd-resnet34": "ssd-resnet34", "retinanet": "retinanet", "gnmt": "gnmt", "bert": "bert",
                   "rnnt": "rnnt", "3d-unet": "3d-unet", "dlrm": "dlrm"}
_TARGET = re.compile(r"^(?P<base>.+?)-(?P<target>99(?:\.9)?)(?:[_-](?P<variant>.+))?$")

# Accuracy lines of accuracy.txt, in priority order (a DLRM file also prints a top-1 'accuracy=').
ACCURACY_PATTERNS: tuple[tuple[str, re.Pattern[str], Decimal, bool], ...] = (
    ("mean DICE", re.compile(r"Accuracy: mean = ([\d.]+)"), Decimal(1), False),
    ("F1 (SQuAD)", re.compile(r'"f1":\s*([\d.]+)'), Decimal(100), False),
    ("word accuracy (1 - WER)", re.compile(r"Word Error Rate:\s*([\d.]+)%"), Decimal(100), True),
    ("AUC", re.compile(r"AUC=([\d.]+)%"), Decimal(100), False),
    ("BLEU / 100", re.compile(r"BLEU:?\s*([\d.]+)"), Decimal(100), False),
    ("mAP", re.compile(r"mAP=([\d.]+)%"), Decimal(100), False),
    ("top-1 accuracy", re.compile(r"accuracy=([\d.]+)%"), Decimal(100), False),
)

_LINE = re.compile(r"^[ \t]*(?P<key>[^:\n]+?)[ \t]*:[ \t]*(?P<value>[^\n]*?)[ \t]*$", re.MULTILINE)
_ESTIMATE = re.compile(r"Early stopping (\d+(?:\.\d+)?)th percentile estimate\s*:\s*(\d+)", re.IGNORECASE)

# Compilers and runtimes named in a system's framework text (hardware/compiler optimization).
COMPILERS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("TensorRT", re.compile(r"\btensor\s*rt\b|\btrt\b", re.I)),
    ("OpenVINO", re.compile(r"openvino", re.I)),
    ("Apache TVM", re.compile(r"\btvm\b", re.I)),
    ("Arm NN", re.compile(r"\barm\s*nn\b", re.I)),
    ("Qualcomm AIC compiler (QAIC)", re.compile(r"\bqaic\b|cloud ai 100 (apps|platform) sdk", re.I)),
    ("SNPE", re.compile(r"\bsnpe\b", re.I)),
    ("XLA", re.compile(r"\bxla\b", re.I)),
    ("ONNX Runtime", re.compile(r"onnx\s*runtime|\bort\b", re.I)),
    ("TensorFlow Lite", re.compile(r"tf\s*-?lite|tensorflow lite", re.I)),
    ("DeepSparse", re.compile(r"deepsparse", re.I)),
)

_NOT_GIVEN = {"", "n/a", "na", "none", "-", "--", "unknown", "tbd", "null", "no change.", "no change", "no",
              "n", "0", "not applicable"}
_POINTER = re.compile(r"^(refer to|see |https?://)", re.I)


@dataclass
class Summary:
    """The figures of one mlperf_log_summary.txt."""

    scenario: str
    valid: bool | None
    values: dict[str, Decimal] = field(default_factory=dict)
    estimate_percentile: str | None = None


@dataclass
class ResultFiles:
    """What was read for one (round root, division, submitter, system, model, scenario folder)."""

    summary_rel: str | None = None
    summary: Summary | None = None
    accuracy_rel: str | None = None
    accuracy: tuple[Decimal, str] | None = None


@dataclass
class RoundData:
    """Everything read from one round folder (or archive), before its round name is settled."""

    root: str  # the round folder's name as published (first path segment of every source path)
    where: str  # the folder or archive it was read from, for messages
    readme: str | None = None
    systems: dict[tuple[str, str, str], tuple[str, bytes]] = field(default_factory=dict)
    measurements: dict[tuple[str, str, str, str, str], list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    results: dict[tuple[str, str, str, str, str], ResultFiles] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------
# Reading the files
# ---------------------------------------------------------------------------------------------------


def _text(data: bytes) -> str:
    # some published summaries carry NUL bytes after the SUT name and CRLF line ends
    return data.decode("utf-8", errors="replace").replace("\x00", "").replace("\r", "")


def _decimal(text: str) -> Decimal | None:
    try:
        d = Decimal(text.strip())
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def parse_summary(text: str) -> tuple[Summary | None, str | None]:
    """The figures of a performance summary, or why it has none. The scenario is the summary's own
    ``Scenario :`` line (v0.5 writes 'Single Stream'); a summary without its ``Result is`` line is
    truncated."""
    lines: dict[str, str] = {}
    for m in _LINE.finditer(text):
        lines.setdefault(m.group("key").strip().lower(), m.group("value").strip())
    raw = lines.get("scenario")
    if raw is None:
        return None, "no 'Scenario :' line (not a complete MLPerf log summary)"
    scenario = SCENARIOS.get(re.sub(r"\s+", "", raw).lower())
    if scenario is None:
        return None, f"unknown scenario {raw!r} (expected SingleStream, MultiStream, Offline or Server)"
    if "result is" not in lines:
        return None, "truncated summary: no 'Result is :' line"
    verdict = lines["result is"].upper()
    summary = Summary(scenario, True if verdict == "VALID" else False if verdict == "INVALID" else None)

    def figure(key: str) -> Decimal | None:
        value = lines.get(key)
        d = _decimal(value) if value is not None else None
        return d if d is not None and d > 0 else None

    wanted = {"SingleStream": ("90th percentile latency (ns)",), "Offline": ("samples per second",),
              "Server": ("scheduled samples per second",),
              "MultiStream": ("99th percentile latency (ns)", "samples per query")}[scenario]
    for key in wanted:
        d = figure(key)
        if d is not None:
            summary.values[key] = d
    if not summary.values:
        return None, f"{scenario} summary without a positive {' or '.join(repr(k) for k in wanted)} figure"
    for key in ("target_latency (ns)", "99.00 percentile latency (ns)", "90.00 percentile latency (ns)"):
        d = figure(key)
        if d is not None:
            summary.values[key] = d
    estimates = _ESTIMATE.findall(text)
    want_pct = "90" if scenario == "SingleStream" else "99" if scenario == "MultiStream" else None
    for pct, value in estimates:
        if want_pct and pct.split(".")[0] == want_pct:
            summary.values["estimate"] = Decimal(value)
            summary.estimate_percentile = want_pct
    return summary, None


def parse_accuracy(text: str) -> tuple[tuple[Decimal, str] | None, str | None]:
    """The accuracy figure (a 0-1 fraction) and its metric, or why there is none."""
    for metric, pattern, scale, complement in ACCURACY_PATTERNS:
        found = pattern.findall(text)
        if found:
            d = _decimal(found[-1])
            if d is None:
                return None, f"{metric} value {found[-1]!r} is not a number"
            value = (scale - d) / scale if complement else d / scale
            if not 0 <= value <= 1:
                return None, f"{metric} value {found[-1]!r} is out of range"
            return (value, metric), None
    return None, "no accuracy line (accuracy=, mAP=, f1, AUC=, Word Error Rate, BLEU, DICE mean)"


def _accuracy_text(data: bytes) -> str:
    # large files are per-sample logs whose result lines come last: look there first
    if len(data) > 262_144:
        tail = _text(data[-65_536:])
        if any(p.search(tail) for _, p, _, _ in ACCURACY_PATTERNS):
            return tail
    return _text(data)


def _members_of_dir(root: Path) -> Iterator[tuple[str, Path]]:
    for p in sorted(root.rglob("*")):
        if p.is_file():
            yield p.relative_to(root.parent).as_posix(), p


def _read_member(rounds: dict[str, RoundData], where: str, rel: str, read: Any, skipped: list[tuple[str, str]]) -> None:
    """Sort one file into its round's data (``read()`` returns its bytes, called only when needed)."""
    parts = rel.split("/")
    root = parts[0]
    data = rounds.setdefault(root, RoundData(root, where))
    name = parts[-1]
    if name.startswith("."):
        skipped.append((rel, "hidden or macOS resource-fork file"))
        return
    if len(parts) == 2:
        if name.lower() == "readme.md":
            data.readme = _text(read())
        elif name.lower() not in ("license.md", "license"):
            skipped.append((rel, "not part of the results layout"))
        return
    if len(parts) < 5 or parts[1].lower() not in DIVISIONS:
        skipped.append((rel, "not under <division>/<submitter>/{systems,measurements,results}"))
        return
    division, submitter, kind = parts[1].lower(), parts[2], parts[3]
    if kind == "systems" and len(parts) == 5 and name.lower().endswith(".json"):
        data.systems[(division, submitter, name[:-5])] = (rel, read())
    elif kind == "measurements" and len(parts) == 8 and name.lower().endswith(".json"):
        try:
            record = json.loads(_text(read()))
        except json.JSONDecodeError as e:
            skipped.append((rel, f"measurement JSON not readable: {e.msg} (line {e.lineno})"))
            return
        if not isinstance(record, dict) or "weight_data_types" not in record:
            skipped.append((rel, "not a measurement description (no weight_data_types)"))
            return
        key = (division, submitter, parts[4], parts[5], parts[6].lower())
        data.measurements.setdefault(key, []).append((rel, record))
    elif kind == "results" and len(parts) == 10 and parts[7:] == ["performance", "run_1", "mlperf_log_summary.txt"]:
        entry = data.results.setdefault((division, submitter, parts[4], parts[5], parts[6]), ResultFiles())
        entry.summary_rel = rel
        summary, reason = parse_summary(_text(read()))
        if summary is None:
            skipped.append((rel, str(reason)))
        entry.summary = summary
    elif kind == "results" and len(parts) == 9 and parts[7:] == ["accuracy", "accuracy.txt"]:
        entry = data.results.setdefault((division, submitter, parts[4], parts[5], parts[6]), ResultFiles())
        entry.accuracy_rel = rel
        accuracy, reason = parse_accuracy(_accuracy_text(read()))
        if accuracy is None:
            skipped.append((rel, str(reason)))
        entry.accuracy = accuracy
    else:
        skipped.append((rel, "not a system description, measurement JSON, performance summary (run_1) or "
                             "accuracy.txt"))


class _CountingReader(io.RawIOBase):
    """A file wrapper that reports how many compressed bytes were consumed (for the progress bar)."""

    def __init__(self, raw: io.BufferedReader, progress: Progress) -> None:
        self._raw, self._progress = raw, progress

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        n = self._raw.readinto(b)
        self._progress.advance(n or 0)
        return n or 0


def read_sources(path: Path, progress: Progress, skipped: list[tuple[str, str]]) -> list[RoundData]:
    """Every round under ``path`` (round folder, folder of rounds, .tar.gz, folder of .tar.gz)."""
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), "no such file or directory")
    archives: list[Path] = []
    folders: list[Path] = []
    if path.is_file():
        if not path.name.endswith((".tar.gz", ".tgz")):
            raise InputError(str(path), "expected a round folder, a folder of rounds or a .tar.gz archive of one")
        archives = [path]
    elif any((path / d).is_dir() for d in DIVISIONS):
        folders = [path]
    else:
        archives = sorted(p for p in path.iterdir() if p.is_file() and p.name.endswith((".tar.gz", ".tgz")))
        folders = sorted(p for p in path.iterdir() if p.is_dir() and any((p / d).is_dir() for d in DIVISIONS))
        if not archives and not folders:
            raise InputError(str(path), "not MLPerf Inference results: expected a round folder (with closed/ or "
                                        "open/), a folder of such rounds, or .tar.gz archives of them")
    rounds: dict[str, RoundData] = {}
    total = sum(a.stat().st_size for a in archives) + sum(1 for f in folders for p in f.rglob("*") if p.is_file())
    progress.start(total, f"Reading MLPerf Inference results under {path}")
    for folder in folders:
        for rel, file in _members_of_dir(folder):
            progress.advance()
            _read_member(rounds, str(folder), rel, file.read_bytes, skipped)
    for archive in archives:
        try:
            with archive.open("rb") as raw, tarfile.open(fileobj=io.BufferedReader(_CountingReader(raw, progress)),
                                                         mode="r|gz") as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    f = tar.extractfile(member)
                    _read_member(rounds, str(archive), member.name.lstrip("./"), f.read if f else (lambda: b""),
                                 skipped)
        except (tarfile.TarError, EOFError, OSError) as e:
            raise InputError(str(archive), f"not a readable .tar.gz archive ({e})") from None
    return list(rounds.values())


def round_of(data: RoundData, round_name: str | None) -> str:
    """The round a folder holds: ``round_name`` if given, else its README's title, else its folder name
    ending in ``vX.Y``; the README and the folder name must agree. Raises :class:`InputError` otherwise."""
    if round_name is not None:
        if not re.fullmatch(r"v\d+\.\d+", round_name):
            raise InputError(data.where, f"round {round_name!r} is not of the form vX.Y (e.g. v2.1)")
        return round_name
    from_readme = ROUND_IN_README.search(data.readme).group(1) if data.readme and ROUND_IN_README.search(data.readme) else None
    m = ROUND_IN_NAME.search(data.root)
    from_name = m.group(1) if m else None
    if from_readme and from_name and from_readme != from_name:
        raise InputError(f"{data.root}/README.md", f"the README names round {from_readme} but the folder is "
                                                  f"{data.root!r}; pass --round to say which")
    found = from_readme or from_name
    if found is None:
        raise InputError(data.where, f"cannot tell the round of {data.root!r}: its README names none and the "
                                     "folder name does not end in vX.Y; pass --round vX.Y")
    return found


def round_names(path: Path) -> list[str]:
    """The rounds a folder of round folders or archives holds, from the names alone (``..._vX.Y``,
    ``vX.Y[.tar.gz]``), sorted; what the shipped graph's manifest lists. Reads no archive."""
    path = Path(path)
    candidates = [path] if path.is_file() or any((path / d).is_dir() for d in DIVISIONS) else sorted(path.iterdir())
    found = set()
    for p in candidates:
        m = ROUND_IN_NAME.search(re.sub(r"\.(tar\.gz|tgz)$", "", p.name))
        if m:
            found.add(m.group(1))
    return sorted(found, key=lambda r: tuple(int(x) for x in r[1:].split(".")))


# ---------------------------------------------------------------------------------------------------
# Mapping into the ontology
# ---------------------------------------------------------------------------------------------------


def _given(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = " ".join(str(value).split())
    return None if text.lower() in _NOT_GIVEN else text


def system_classes(system_type: str | None, hardware_kind: str | None) -> tuple[list[NamedNode], str | None]:
    """The classes of a system (end device, cloud configuration or both) and, where MLPerf published
    no ``system_type``, the comment saying how the class was decided."""
    kinds = {t.strip().lower() for t in (system_type or "").split(",") if t.strip()}
    classes = ([DLOM.EndDevice] if "edge" in kinds else []) + ([DLOM.CloudConfiguration] if "datacenter" in kinds else [])
    if classes:
        return classes, None
    if hardware_kind in ("board", "module", "phone", "laptop"):
        return [DLOM.EndDevice], (f"system_type not published (MLPerf Inference v0.5 had no edge/datacenter "
                                  f"categories); an end device because its hardware is a known {hardware_kind}")
    return [DLOM.CloudConfiguration], ("system_type not published (MLPerf Inference v0.5 had no edge/datacenter "
                                       "categories); a server-side configuration because its hardware is no "
                                       "board, module, phone or laptop of the hardware rule table")


# A parenthesised note that says how a system was configured (accelerator count, software, power mode,
# operating system) or gives a host alias ('(rpi4)'), not which product it is; '(c6gd.xlarge)' (an
# instance type) and '(Entry)' / '(Highend)' (a product variant) name the product and are kept.
_CONFIGURATION_NOTE = re.compile(
    r"\d+\s*x\b|\bx\s*\d|,|tensorrt|triton|maxq|\bmig\b|onnx|tflite|arm\s*nn|\btvm\b|openvino|deepsparse|pytorch|"
    r"\bon cpu\b|linux|debian|rhel|ubuntu|windows|cooling|qaic|^[a-z0-9_-]+$", re.IGNORECASE)


def _base_system_name(name: str) -> str:
    """The system name without its configuration notes (see :data:`_CONFIGURATION_NOTE`)."""
    def drop(m: re.Match[str]) -> str:
        inner = m.group(1)
        return " " if _CONFIGURATION_NOTE.search(inner) and not re.fullmatch(r"[A-Z][a-z]+", inner) else m.group(0)
    return " ".join(re.sub(r"\(([^)]*)\)?", drop, name).split()) or name


def _quantity(system: SystemRecord, key: str, dimension: str) -> Decimal | None:
    try:
        value = quantity(system, key, dimension)
    except InputError:  # free text with no figure in a known unit: unknown, not an error
        return None
    return value if value is not None and value > 0 else None


def _int(value: Any) -> int | None:
    text = _given(value)
    return int(text) if text and re.fullmatch(r"\d+", text) and int(text) > 0 else None


@dataclass
class SystemNode:
    iri: NamedNode
    rel: str
    label: str
    is_device: bool
    is_cloud: bool
    frameworks: list[NamedNode]
    compilers: list[NamedNode]
    software: str | None


def describe_system(triples: TripleBuilder, iris: IriRegistry, round_: str, division: str, submitter: str, stem: str,
                    rel: str, raw: bytes, hardware: HardwareCollector) -> SystemNode:
    """The triples of one system description; collects its hardware link into ``hardware``."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(rel, f"not UTF-8 text (byte {e.start})") from None
    record, repairs = parse_system_json(text, rel)
    system = SystemRecord(Path(rel), rel, record, repairs)
    name = system.first("system_name") or stem
    parts = (SOURCE, round_, division, submitter, stem)
    iri = iris.claim(entity("system", *parts), ("system", *parts), rel)
    accelerator = system.first("accelerator_model_name")
    accelerator = accelerator if _given(accelerator) else None
    # a rule of the table matches the name as published ('Foxconn Gloria (Entry)'); a name no rule knows
    # is the server (or board) without its configuration notes, with its accelerator
    ident = identify_hardware(name, "server")
    if ident.rule is None:
        base = _base_system_name(name)
        # a MIG slice ('NVIDIA A100-SXM-80GB (1x1g.10gb MIG)') is a partition of the same physical card
        card = _base_system_name(accelerator) if accelerator else None
        ident = identify_hardware(f"{base} with {card}" if card else base, "server")
    classes, how = system_classes(system.first("system_type"), ident.rule.kind if ident.rule else None)
    label = f"{name} ({submitter}, MLPerf Inference {round_} {division})"
    for cls in classes:
        triples.add(iri, RDF.type, cls)
    triples.add(iri, RDFS.label, label)
    triples.add(iri, DLOM.sourceRecord, literal(record))
    if how:
        triples.add(iri, RDFS.comment, how)
    source = _source_file(triples, iris, rel, "; ".join(repairs) or None)
    triples.add(iri, PROV.wasDerivedFrom, source)
    hardware.add(ident, iri)

    processor = system.first("host_processor_model_name")
    per_node = _int(system.first("host_processors_per_node"))
    cores = _int(system.first("host_processor_core_count"))
    accelerators = _int(system.first("accelerators_per_node"))
    nodes = _int(system.first("number_of_nodes")) or 1
    memory = _quantity(system, "host_memory_capacity", "memory")
    os_name = system.first("operating_system")
    frameworks, compilers = [], []
    framework_text = system.first("framework")
    if framework_text:
        fw = entity("framework", framework_text)
        add_framework(triples, fw, framework_text)
        triples.add(iri, DLOM.usesFramework, fw)
        frameworks.append(fw)
        for compiler, pattern in COMPILERS:
            if pattern.search(framework_text):
                opt = entity("hardware-optimization", compiler)
                triples.add(opt, RDF.type, DLOM.HardwareOptimization)
                triples.add(opt, RDFS.label, f"ML model compiler: {compiler}")
                triples.add(opt, DLOM.toolName, compiler)
                compilers.append(opt)
    software = "; ".join(v for v in (framework_text, system.first("other_software_stack")) if v) or None
    if accelerators and accelerator:
        triples.add(iri, DLOM.acceleratorCount, accelerators * nodes)
    is_device = DLOM.EndDevice in classes
    is_cloud = DLOM.CloudConfiguration in classes
    if is_device:
        if processor:
            triples.add(iri, DLOM.processor, processor)
        if accelerator:
            triples.add(iri, DLOM.accelerator, accelerator)
        if cores and per_node:
            triples.add(iri, DLOM.cpuCores, cores * per_node * nodes)
        if memory is not None:
            triples.add(iri, DLOM.memoryKB, memory)
        storage = _quantity(system, "host_storage_capacity", "memory")
        if storage is not None:
            triples.add(iri, DLOM.storageKB, storage)
        clock = _quantity(system, "host_processor_frequency", "frequency")
        if clock is not None:
            triples.add(iri, DLOM.clockFrequencyMHz, clock)
        if os_name:
            triples.add(iri, DLOM.operatingSystem, os_name)
    if is_cloud:
        triples.add(iri, DLOM.serverHardware, name)
        if processor:
            triples.add(iri, DLOM.hostProcessor, f"{per_node}x {processor}" if per_node and per_node > 1 else processor)
        if accelerator:
            triples.add(iri, DLOM.acceleratorModel, accelerator)
        if memory is not None:
            triples.add(iri, DLOM.hostMemoryKB, memory)
        interconnect = system.first("accelerator_interconnect")
        if interconnect and _given(interconnect):
            triples.add(iri, DLOM.interconnect, interconnect)
        if software:
            triples.add(iri, DLOM.softwareStack, software + (f"; {os_name}" if os_name else ""))
    return SystemNode(iri, rel, label, is_device, is_cloud, frameworks, compilers, software)


def _source_file(triples: TripleBuilder, iris: IriRegistry, rel: str, comment: str | None = None) -> NamedNode:
    return source_file(triples, iris, rel, comment, scope=(SOURCE,))


def network_of(model_folder: str, division: str) -> tuple[str, Decimal | None, Network | None, str]:
    """(DLN IRI part, accuracy target, reference network or None, label) of a model folder."""
    name = model_folder.strip()
    target = None
    base = name.lower()
    variant = None
    m = _TARGET.match(base)
    if m:
        base, variant = m.group("base"), m.group("variant")
        target = Decimal(m.group("target")) / 100
    canonical = NETWORK_FOLDERS.get(base)
    if canonical and not variant and (division == "closed" or base in NETWORK_FOLDERS):
        return canonical, target, NETWORKS[canonical], NETWORKS[canonical].label
    # an open-division network: named by its folder, without a quantized/non-quantized marker (the
    # measurement JSON states the data types) and without the accuracy target
    stripped = re.sub(r"(^|-)(non-)?quantized(-|$)", r"\1\3", m.group("base") + ("-" + variant if variant else "")
                      if m else name.lower()).strip("-")
    reference = NETWORKS.get(canonical) if canonical else None
    return f"open/{stripped}", target, None, f"{stripped} (MLPerf Inference open division)" if not reference else \
        f"{stripped} (variant of {reference.label})"


_DTYPE_TOKENS = (
    (re.compile(r"\bint4\b"), "int4", 4), (re.compile(r"\bu?int8(_t)?\b|signed 8-bit integer|\bint8\.?"), "int8", 8),
    (re.compile(r"\bfp8\b"), "fp8", 8), (re.compile(r"\bbf16\b|bfloat16"), "bf16", 16),
    (re.compile(r"\bfp16\b|float16|half"), "fp16", 16),
)


def weight_types(text: str) -> list[tuple[str, int]]:
    """The reduced-precision weight data types a measurement JSON states (fp32 is no quantization)."""
    low = text.lower()
    found = []
    for pattern, name, bits in _DTYPE_TOKENS:
        if pattern.search(low) and name not in [f for f, _ in found]:
            found.append((name, bits))
    return found


def _sparsity(*texts: str) -> Decimal | None:
    for text in texts:
        low = text.lower()
        m = re.search(r"(\d+(?:\.\d+)?)\s*%?\s*sparse|sparse\s*(\d+(?:\.\d+)?)\s*%|pruned[_-](\d+(?:\.\d+)?)", low)
        if m:
            value = Decimal(next(g for g in m.groups() if g)) / 100
            if 0 < value < 1:
                return value
    return None


def describe_techniques(triples: TripleBuilder, model_folder: str, record: dict[str, Any] | None) -> list[NamedNode]:
    """The optimization techniques a measurement JSON (and an open-division model name) states."""
    out: list[NamedNode] = []
    weights = _given(record.get("weight_data_types")) if record else None
    types = weight_types(weights) if weights else []
    if types:
        scheme = "+".join(name for name, _ in types)
        iri = entity("quantization", SOURCE, "weights", scheme)
        triples.add(iri, RDF.type, DLOM.Quantization)
        triples.add(iri, RDFS.label, f"Quantization: {scheme} weights")
        triples.add(iri, DLOM.quantizationScheme, scheme if len(types) == 1 else f"mixed precision ({scheme})")
        if len(types) == 1:
            triples.add(iri, DLOM.bitWidth, types[0][1])
        out.append(iri)
    retraining = _given(record.get("retraining")) if record else None
    if retraining and (retraining.lower() in ("yes", "y") or re.match(r"we retrain", retraining, re.I)):
        iri = entity("fine-tuning", SOURCE, "retrained")
        triples.add(iri, RDF.type, DLOM.FineTuning)
        triples.add(iri, RDFS.label, "Fine-tuning: weights retrained (as stated in the MLPerf measurement JSON)")
        out.append(iri)
    transformations = _given(record.get("weight_transformations")) if record else None
    if transformations and not _POINTER.match(transformations):
        iri = entity("weight-transformation", SOURCE, transformations)
        triples.add(iri, RDF.type, DLOM.OptimizationTechnique)
        triples.add(iri, RDFS.label, f"Weight transformation: {transformations}")
        triples.add(iri, DLOM.toolName, transformations)
        out.append(iri)
    sparsity = _sparsity(model_folder, retraining or "", transformations or "")
    if sparsity is not None:
        iri = entity("pruning", SOURCE, "sparsity", str(sparsity))
        triples.add(iri, RDF.type, DLOM.Pruning)
        triples.add(iri, RDFS.label, f"Pruning to {sparsity * 100:g}% sparsity")
        triples.add(iri, DLOM.sparsity, sparsity)
        out.append(iri)
    return out


def describe_result(triples: TripleBuilder, iris: IriRegistry, round_: str, division: str, submitter: str,
                    system_folder: str, model_folder: str, scenario_folder: str, files: ResultFiles,
                    node: SystemNode, measurement: tuple[str, dict[str, Any]] | None) -> None:
    """The Model, its MeasuredPerformance and their provenance for one summary."""
    summary = files.summary
    assert summary is not None
    parts = (SOURCE, round_, division, submitter, system_folder, model_folder, scenario_folder)
    where = files.summary_rel or ""
    model = iris.claim(entity("model", *parts), ("model", *parts), where)
    performance = iris.claim(entity("performance", *parts), ("performance", *parts), where)
    dln_part, target, reference, dln_label = network_of(model_folder, division)
    dln = entity("dln", SOURCE, *dln_part.split("/"))
    triples.add(dln, RDF.type, DLOM.DLN)
    triples.add(dln, RDFS.label, dln_label)
    if reference is not None:
        triples.add(dln, DLOM.architectureFamily, reference.family)
        triples.add(dln, DLOM.task, reference.task)
        triples.add(dln, DLOM.trainingDataset, reference.dataset)

    name = f"{model_folder} {summary.scenario} on {system_folder} ({submitter}, MLPerf Inference {round_} {division})"
    triples.add(model, RDF.type, DLOM.Model)
    triples.add(model, RDFS.label, name)
    triples.add(model, DLOM.usesDLN, dln)
    if node.is_device:
        triples.add(model, DLOM.deployedOn, node.iri)
    if node.is_cloud:
        triples.add(model, DLOM.usesCloudConfiguration, node.iri)
    for fw in node.frameworks:
        triples.add(model, DLOM.usesFramework, fw)
    for iri in node.compilers:
        triples.add(model, DLOM.appliesOptimization, iri)
    for iri in describe_techniques(triples, model_folder, measurement[1] if measurement else None):
        triples.add(model, DLOM.appliesOptimization, iri)
    if target is not None:
        triples.add(model, DLOM.accuracyTarget, target)
    year = ROUND_YEARS.get(round_)
    if year:
        triples.add(model, DLOM.yearCreated, year)
    if reference is not None:
        triples.add(model, DLOM.purpose, reference.task)
    triples.add(model, DLOM.benchmark, model_folder)
    triples.add(model, DLOM.benchmarkRound, round_)
    triples.add(model, DLOM.division, division)
    triples.add(model, DLOM.hasPerformance, performance)
    if measurement:
        triples.add(model, PROV.wasDerivedFrom, _source_file(triples, iris, measurement[0]))

    run_parts = (SOURCE, round_, division, submitter, system_folder)
    run = iris.claim(entity("benchmark-run", *run_parts), ("run", *run_parts), where)
    submitter_iri = entity("submitter", submitter)
    triples.add(submitter_iri, RDF.type, DLOM.Submitter)
    triples.add(submitter_iri, RDFS.label, submitter)
    triples.add(run, RDF.type, DLOM.BenchmarkRun)
    triples.add(run, RDFS.label, f"MLPerf Inference {round_} {division} submission of {submitter}: {system_folder}")
    triples.add(run, PROV.wasAssociatedWith, submitter_iri)
    triples.add(run, DLOM.benchmarkRound, round_)
    triples.add(run, DLOM.division, division)
    if year:
        triples.add(run, DCTERMS.date, Literal(str(year), datatype=XSD.gYear))
    if node.software:
        triples.add(run, DLOM.softwareVersions, node.software)

    v = summary.values
    triples.add(performance, RDF.type, DLOM.MeasuredPerformance)
    triples.add(performance, RDFS.label, f"Measured performance of {name}")
    triples.add(performance, DLOM.scenario, summary.scenario)
    if summary.valid is not None:
        triples.add(performance, DLOM.resultValid, summary.valid)
    ms = lambda key: v[key] * _NS_TO_MS  # noqa: E731
    if summary.scenario == "SingleStream":
        triples.add(performance, DLOM.latencyP90Ms, ms("90th percentile latency (ns)"))
        triples.add(performance, DLOM.inferenceLatencyMs, ms("90th percentile latency (ns)"))
    elif summary.scenario == "MultiStream":
        if "99th percentile latency (ns)" in v:
            triples.add(performance, DLOM.latencyP99Ms, ms("99th percentile latency (ns)"))
        else:
            triples.add(performance, DLOM.samplesPerQuery, int(v["samples per query"]))
            if "99.00 percentile latency (ns)" in v:
                triples.add(performance, DLOM.latencyP99Ms, ms("99.00 percentile latency (ns)"))
        if "target_latency (ns)" in v:
            triples.add(performance, DLOM.latencyBoundMs, ms("target_latency (ns)"))
    elif summary.scenario == "Offline":
        triples.add(performance, DLOM.samplesPerSecond, v["samples per second"])
        triples.add(performance, DLOM.throughputIps, v["samples per second"])
    else:
        triples.add(performance, DLOM.scheduledSamplesPerSecond, v["scheduled samples per second"])
        triples.add(performance, DLOM.throughputIps, v["scheduled samples per second"])
        if "target_latency (ns)" in v:
            triples.add(performance, DLOM.latencyBoundMs, ms("target_latency (ns)"))
    if "estimate" in v:
        triples.add(performance, DLOM.earlyStoppingLatencyMs, ms("estimate"))
    if files.accuracy is not None:
        triples.add(performance, DLOM.accuracy, files.accuracy[0])
        triples.add(performance, DLOM.accuracyMetric, files.accuracy[1])
    triples.add(performance, PROV.wasGeneratedBy, run)
    triples.add(performance, PROV.wasDerivedFrom, _source_file(triples, iris, where))
    if files.accuracy is not None and files.accuracy_rel:
        triples.add(performance, PROV.wasDerivedFrom, _source_file(triples, iris, files.accuracy_rel))
    triples.add(performance, PROV.wasDerivedFrom, _source_file(triples, iris, node.rel))


@register_importer("mlperf-inference")
def import_mlperf_inference(store: Store, path: Path, progress: Progress = NoProgress(),
                            round_name: str | None = None) -> ImportReport:
    """Import MLPerf Inference results (a round folder, a folder of rounds, a .tar.gz or a folder of them).

    All or nothing: raises :class:`InputError` (malformed system JSON with file and line, a round
    that cannot be named) or :class:`kg.errors.ValidationError` before anything is written. Returns the
    counts of what was written and every skipped file with its reason. ``round_name`` (``--round``)
    names the round of a folder whose README and name do not.
    """
    report = ImportReport(source=str(path))
    rounds = read_sources(Path(path), progress, report.skipped)
    if round_name is not None and len(rounds) > 1:
        raise InputError(str(path), f"--round names one round but {len(rounds)} round folders were found")
    triples = TripleBuilder()
    iris = IriRegistry()
    hardware = HardwareCollector()
    counts = {"systems": 0, "end_devices": 0, "cloud_configurations": 0, "models": 0, "performances": 0,
              "summaries": 0, "accuracy_figures": 0}
    names = {}
    for data in sorted(rounds, key=lambda d: d.root):
        round_ = round_of(data, round_name)
        if round_ in names:
            raise InputError(data.where, f"round {round_} is held twice ({names[round_]} and {data.root})")
        names[round_] = data.root
        nodes: dict[tuple[str, str, str], SystemNode] = {}
        for (division, submitter, stem), (rel, raw) in sorted(data.systems.items()):
            node = describe_system(triples, iris, round_, division, submitter, stem, rel, raw, hardware)
            nodes[(division, submitter, stem)] = node
            counts["systems"] += 1
            counts["end_devices"] += node.is_device
            counts["cloud_configurations"] += node.is_cloud
        by_submission: dict[tuple[str, str], dict[str, SystemRecord]] = {}
        for (division, submitter, stem), node in nodes.items():
            by_submission.setdefault((division, submitter), {})[stem] = SystemRecord(Path(stem), node.rel, {}, [])
        for key, files in sorted(data.results.items()):
            division, submitter, system_folder, model_folder, scenario_folder = key
            if files.summary_rel is None:
                if files.accuracy_rel:
                    report.skipped.append((files.accuracy_rel, "accuracy file without a performance summary"))
                continue
            counts["summaries"] += 1
            if files.summary is None:
                continue
            node = nodes.get((division, submitter, system_folder))
            if node is None:
                record, _ = match_system(system_folder, by_submission.get((division, submitter), {}))
                node = nodes.get((division, submitter, record.path.stem)) if record else None
            if node is None:
                report.skipped.append((files.summary_rel, f"no system description for system folder "
                                                          f"{system_folder!r} in {data.root}/{division}/{submitter}/systems"))
                continue
            measured = data.measurements.get((division, submitter, system_folder, model_folder, scenario_folder.lower()))
            measurement = sorted(measured, key=lambda m: m[0])[0] if measured else None
            describe_result(triples, iris, round_, division, submitter, system_folder, model_folder, scenario_folder,
                            files, node, measurement)
            counts["models"] += 1
            counts["performances"] += 1
            counts["accuracy_figures"] += files.accuracy is not None
    counts["hardware"] = hardware.write(triples)
    counts["rounds"] = len(names)
    counts["skipped_files"] = len(report.skipped)
    written = write_triples(store, triples, source=str(path))
    report.triples = written.triples
    report.counts = counts
    return report
