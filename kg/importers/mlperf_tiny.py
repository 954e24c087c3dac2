"""Importer of MLPerf Tiny results trees as MLCommons publishes them (rounds v0.5 to v1.2).

Layout read (each round's README describes it)::

    <round>/<division>/<submitter>/systems/<system>.json
    <round>/<division>/<submitter>/results/<system>/<benchmark>[/<model>]/{performance,accuracy,energy}/results.txt

``path`` may be the whole tree (holding round folders), one round folder, one division folder or one
submitter folder; round and division are then taken from the folder names above it.

What it writes (ontology ``kg/ontology/dlom.ttl``):

* each system JSON → a ``dlom:EndDevice`` with normalized figures (clock in MHz, memory and storage in KB)
  beside ``dlom:sourceRecord``, the record as published (a key published twice maps to the list of its
  values, in order); its inference framework (``dlom:Framework``, with the products it names as
  ``dlom:frameworkFamily``), general compiler (``dlom:Compiler``),
  quantization method (``dlom:Quantization``) and ML model compiler (``dlom:HardwareOptimization``);
* each (round, division, submitter, system, benchmark[, open-division model]) with results → a
  ``dlom:Model`` and a ``dlom:MeasuredPerformance`` (median throughput, latency = 1000 / throughput,
  median energy per inference, accuracy as a 0-1 fraction) with PROV-O provenance: a
  ``dlom:BenchmarkRun`` associated with a ``dlom:Submitter`` and ``dlom:SourceFile`` entities naming
  the files, relative to the tree root;
* the benchmark networks (``dlom:DLN``) with the facts the MLPerf Tiny reference models fix. Closed
  division results use the reference network of their benchmark; open division results (where the
  network may be changed) get a DLN per submitter and model folder, with task and dataset only.

* a results folder no system description can be matched to (the submission published none, as
  STMicroelectronics and Syntiant did in v0.7 and v1.0, or none or several match its name) → a
  ``dlom:EndDevice`` known only by that folder name: ``rdfs:label`` from the name, the name as published
  in ``dlom:publishedName``, ``dlom:describedOnlyByName true`` and an ``rdfs:comment`` saying why. Nothing
  else is stated about it (not even figures a name seems to spell, such as '30mhz': the v1.1 description
  published under that folder name says 30.7 MHz), and nothing is borrowed from another round's
  description. Its IRI has a ``results`` segment (``device/<round>/<division>/<submitter>/results/<folder>``)
  so it can never merge with a described device. Its results are imported like any other; their models
  name no framework, compiler or technique.

A tree holding only system descriptions imports as devices without models. Frameworks, compilers and
techniques are shared entities named by their published text (the same text anywhere is one entity).
Device memory is the SoC's RAM when published, else the board's; storage likewise (see :func:`quantity`
for free-text figures).

Contract: everything is read and checked before anything is written, and everything is written in one
:func:`kg.writes.write_triples` call, so an error leaves the store unchanged. Malformed JSON raises
:class:`~kg.errors.InputError` with file and line; a quantity with an unknown unit raises it with file
and field. Files that cannot contribute (a resource fork, a file other than a results
summary, a results file with no median, ...) are listed in :attr:`ImportReport.skipped` with the reason.

Published JSON with one of a few unambiguous flaws found in the real rounds is repaired, not refused,
and the repair is recorded on the file's ``dlom:SourceFile`` (``rdfs:comment``): a raw line break inside
a string, a trailing comma before ``}``, a missing comma between two members on separate lines, and a
file cut off after its last complete member (missing its final ``}``). Anything else is malformed.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from kg.errors import InputError
from kg.framework_names import add_framework
from kg.hardware import HardwareIdentity, hardware_triples, identify_hardware, possibly_same_triples
from kg.importers import ImportReport, register_importer
from kg.namespaces import DLOM, PROV, RDF, RDFS, XSD, Namespace, entity
from kg.progress import NoProgress, Progress
from kg.store import Store
from kg.terms import literal
from kg.units import UnitError, parse_quantity
from kg.writes import TripleBuilder, write_triples

DCTERMS = Namespace("http://purl.org/dc/terms/")

ROUND_NAME = re.compile(r"^v\d+\.\d+$")
# a clone of the round repository ("tiny_results_v1.3") names its round at its end; its README in its title
ROUND_IN_NAME = re.compile(r"(?:^|[_-])(v\d+\.\d+)$")
ROUND_IN_README = re.compile(r"MLPerf\W{0,3}\s*Tiny\s+(v\d+\.\d+)", re.IGNORECASE)
DIVISIONS = ("closed", "open")
RESULT_KINDS = ("performance", "accuracy", "energy")
# results.txt as published; result.txt and <kind>_result.txt as the round READMEs name it.
RESULT_FILE = re.compile(r"^(?:(?:performance|accuracy|energy)_)?results?\.txt$", re.IGNORECASE)

# Benchmark folders are spelled two ways across rounds.
BENCHMARK_FOLDERS: dict[str, str] = {
    "kws": "kws", "keyword_spotting": "kws", "keyword-spotting": "kws",
    "vww": "vww", "visual_wake_words": "vww", "visual-wake-words": "vww",
    "ic": "ic", "image_classification": "ic", "image-classification": "ic",
    "ad": "ad", "anomaly_detection": "ad", "anomaly-detection": "ad",
}
TASKS = {"kws": "keyword spotting", "vww": "visual wake words (person detection)",
         "ic": "image classification", "ad": "anomaly detection"}
TRAINING_DATASETS = {"kws": "Speech Commands v2", "vww": "Visual Wake Words (COCO 2014)", "ic": "CIFAR-10",
                     "ad": "ToyADMOS (DCASE 2020 Task 2, ToyCar)"}
ACCURACY_METRICS = {"kws": "top-1 accuracy", "vww": "top-1 accuracy", "ic": "top-1 accuracy", "ad": "AUC"}


@dataclass(frozen=True)
class ReferenceNetwork:
    """Facts of an MLPerf Tiny reference model fixed by the benchmark's reference code."""

    label: str
    family: str
    layers_with_weights: int
    inputs: int
    outputs: int
    activation: str


# Layers with weights count convolutions, depthwise convolutions and fully connected layers:
# DS-CNN: 1 conv + 4 x (depthwise + pointwise) + 1 FC; MobileNetV1: 1 conv + 13 x (dw + pw) + 1 FC;
# ResNet-8: 1 conv + 3 stacks x 2 convs + 2 1x1 shortcut convs + 1 FC; the AD autoencoder: 10 dense.
REFERENCE_NETWORKS: dict[str, ReferenceNetwork] = {
    "kws": ReferenceNetwork("DS-CNN (MLPerf Tiny keyword spotting reference)", "DS-CNN", 10, 49 * 10, 12, "ReLU"),
    "vww": ReferenceNetwork("MobileNetV1 alpha=0.25 (MLPerf Tiny visual wake words reference)", "MobileNetV1",
                            28, 96 * 96 * 3, 2, "ReLU"),
    "ic": ReferenceNetwork("ResNet-8 (MLPerf Tiny image classification reference)", "ResNet", 10, 32 * 32 * 3, 10,
                           "ReLU"),
    "ad": ReferenceNetwork("FC autoencoder (MLPerf Tiny anomaly detection reference)", "fully connected autoencoder",
                           10, 640, 640, "ReLU"),
}

# Publication year of each round's results (MLCommons announcements).
ROUND_YEARS = {"v0.5": 2021, "v0.7": 2022, "v1.0": 2022, "v1.1": 2023, "v1.2": 2024}

NOT_GIVEN = {"", "n/a", "na", "none", "-", "--", "unknown", "tbd", "not applicable", "same as soc", "null"}

_LATENCY_CONTEXT = Context(prec=10)
_MEDIAN_THROUGHPUT = re.compile(r"Median throughput is\s+(\S+)\s+inf\./sec", re.IGNORECASE)
_MEDIAN_ENERGY = re.compile(r"Median energy cost is\s+(\S+)\s+(\S+?)/inf", re.IGNORECASE)
# "Top-1: 85.5%" / "AUC: 0.966" (v0.5-v1.1) and "Top 1% = 85.5" / "AUC = 0.966" (later rounds)
_TOP1 = re.compile(r"Top-1:\s*([^\s%]+)\s*%|Top[- ]1\s*%\s*=\s*([^\s%]+)")
_AUC = re.compile(r"\bAUC\s*[:=]\s*(\S+)")


class PublishedDuplicates(list):  # type: ignore[type-arg]
    """The values of a JSON key that a record publishes more than once, in order."""


@dataclass
class SystemRecord:
    """One parsed system description JSON."""

    path: Path
    rel: str
    record: dict[str, Any]
    repairs: list[str]

    def values(self, *names: str) -> list[Any]:
        """Non-empty values of the keys ``names`` (compared without case and surrounding spaces), in
        publication order, duplicates of a value dropped."""
        wanted = {n.strip().casefold() for n in names}
        out: list[Any] = []
        for key, value in self.record.items():
            if key.strip().casefold() not in wanted:
                continue
            for v in value if isinstance(value, PublishedDuplicates) else [value]:
                if isinstance(v, str):
                    v = v.strip()
                    if v.casefold() in NOT_GIVEN:
                        continue
                elif v is None or v == {} or v == []:
                    continue
                if v not in out:
                    out.append(v)
        return out

    def texts(self, *names: str) -> list[str]:
        return [v for v in self.values(*names) if isinstance(v, str)]

    def first(self, *names: str) -> str | None:
        texts = self.texts(*names)
        return texts[0] if texts else None


@dataclass
class Submission:
    """One ``<round>/<division>/<submitter>`` folder."""

    round: str
    division: str
    submitter: str
    folder: Path


@dataclass
class ResultGroup:
    """The result files of one (system folder, benchmark, model) under a submission."""

    system_key: str
    benchmark: str
    variant: str | None
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)


@dataclass
class Figures:
    """The figures read from one group's result files, with the files they came from."""

    throughput: Decimal | None = None
    energy_uj: Decimal | None = None
    accuracy: Decimal | None = None
    used: list[Path] = field(default_factory=list)


class HardwareCollector:
    """The hardware entities of one import and the configurations (devices, cloud configurations) of
    each, written once at the end with their links both ways."""

    def __init__(self) -> None:
        self._entities: dict[str, tuple[str, list[NamedNode], tuple[str, ...]]] = {}

    def add(self, identity: HardwareIdentity, configuration: NamedNode) -> None:
        entry = self._entities.setdefault(identity.key, (identity.label, [], identity.possibly_same))
        entry[1].append(configuration)

    def __len__(self) -> int:
        return len(self._entities)

    def write(self, triples: TripleBuilder) -> int:
        """Add every entity's triples (and typed targets of its possibly-same links); returns how many
        hardware entities that is."""
        targets: set[str] = set()
        for key, (label, configurations, possibly_same) in sorted(self._entities.items()):
            for t in hardware_triples(key, label, configurations, possibly_same):
                triples.add(t.subject, t.predicate, t.object)
            targets.update(k for k in possibly_same if k not in self._entities)
        for t in possibly_same_triples(sorted(targets)):
            triples.add(t.subject, t.predicate, t.object)
        return len(self._entities) + len(targets)


class IriRegistry:
    """Guards against two different source identities slugging to the same IRI."""

    def __init__(self) -> None:
        self._owners: dict[NamedNode, tuple[str, ...]] = {}

    def claim(self, iri: NamedNode, identity: tuple[str, ...], file: str) -> NamedNode:
        owner = self._owners.setdefault(iri, identity)
        if owner != identity:
            raise InputError(file, f"{'/'.join(identity)!r} and {'/'.join(owner)!r} map to the same IRI {iri.value}; "
                                   "rename one of the folders or files")
        return iri


# ---------------------------------------------------------------------------------------------------
# Finding the submissions
# ---------------------------------------------------------------------------------------------------


def _is_round(p: Path) -> bool:
    """A round folder: it holds division folders (closed/, open/)."""
    return p.is_dir() and any((p / d).is_dir() for d in DIVISIONS)


def round_name_of(round_dir: Path, given: str | None = None) -> str:
    """The round a round folder holds: ``given`` (``--round``), else its README's title ("MLPerf Tiny
    v1.0 results"), else its folder name ending in vX.Y (``v1.0``, ``tiny_results_v1.0``); README and
    name must agree. Raises :class:`InputError` rather than name a round after an arbitrary folder."""
    if given is not None:
        if not ROUND_NAME.match(given):
            raise InputError(str(round_dir), f"round {given!r} is not of the form vX.Y (e.g. v1.2)")
        return given
    readme = next((p for p in sorted(round_dir.glob("*")) if p.name.lower() == "readme.md"), None)
    m = ROUND_IN_README.search(readme.read_text(encoding="utf-8", errors="replace")) if readme else None
    from_readme = m.group(1) if m else None
    n = ROUND_IN_NAME.search(round_dir.name)
    from_name = n.group(1) if n else None
    if from_readme and from_name and from_readme != from_name:
        raise InputError(str(readme), f"the README names round {from_readme} but the folder is {round_dir.name!r}; "
                                      "pass --round to say which")
    if not (from_readme or from_name):
        raise InputError(str(round_dir), f"cannot tell the round of {round_dir.name!r}: its README names none and "
                                         "its name does not end in vX.Y; pass --round vX.Y")
    return str(from_readme or from_name)


def _submissions_of_round(round_dir: Path, given: str | None = None) -> Iterator[Submission]:
    name = round_name_of(round_dir, given)
    for division_dir in sorted(p for p in round_dir.iterdir() if p.is_dir() and p.name.lower() in DIVISIONS):
        for submitter_dir in sorted(p for p in division_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            yield Submission(name, division_dir.name.lower(), submitter_dir.name, submitter_dir)


def locate_submissions(path: Path, round_name: str | None = None) -> tuple[Path, list[Submission]]:
    """The tree root (source paths are relative to it) and the submissions under ``path``.

    Raises :class:`InputError` for a path that is none of: the whole tree, a round, a division or a
    submitter folder whose round and division can be read from the folder names above it.
    """
    path = path.resolve()
    if not path.exists():
        raise InputError(str(path), "no such file or directory")
    if not path.is_dir():
        raise InputError(str(path), "expected a folder: an MLPerf Tiny results tree, round, division or submitter")
    if _is_round(path):
        return path.parent, list(_submissions_of_round(path, round_name))
    rounds = sorted(p for p in path.iterdir() if _is_round(p))
    if rounds:
        if round_name is not None and len(rounds) > 1:
            raise InputError(str(path), f"--round names one round but {len(rounds)} round folders were found")
        return path, [s for r in rounds for s in _submissions_of_round(r, round_name)]
    if path.name.lower() in DIVISIONS:
        subs = [s for s in _submissions_of_round(path.parent, round_name) if s.division == path.name.lower()]
        return path.parent.parent, subs
    if (path / "systems").is_dir() or (path / "results").is_dir():
        division, round_dir = path.parent.name.lower(), path.parent.parent
        if division not in DIVISIONS:
            raise InputError(str(path), "cannot tell round and division of this submitter folder; expected it at "
                                        "<round>/<closed|open>/<submitter>, e.g. v1.0/closed/STMicroelectronics")
        return round_dir.parent, [Submission(round_name_of(round_dir, round_name), division, path.name, path)]
    raise InputError(str(path), "not an MLPerf Tiny results tree: expected round folders (v0.5, v1.0, ...), "
                                "<division> folders, or a submitter folder with systems/ or results/")


# ---------------------------------------------------------------------------------------------------
# System descriptions
# ---------------------------------------------------------------------------------------------------


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object keeping every published value: a key given twice maps to PublishedDuplicates."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key not in out:
            out[key] = value
        elif isinstance(out[key], PublishedDuplicates):
            out[key].append(value)
        else:
            out[key] = PublishedDuplicates([out[key], value])
    return out


def _remove_trailing_commas(text: str) -> tuple[str, str]:
    return re.sub(r",(\s*[}\]])", r"\1", text), "removed a trailing comma before a closing bracket"


def _insert_missing_commas(text: str) -> tuple[str, str]:
    # a value ends a line and the next line opens a member: the comma between them was left out
    return (re.sub(r'([}\]"]|\btrue|\bfalse|\bnull|\d)([ \t]*\r?\n\s*")', r"\1,\2", text),
            "inserted a missing comma between members")


def _close_cut_off_object(text: str) -> tuple[str, str]:
    stripped = text.rstrip()
    if stripped.count("{") == stripped.count("}") + 1 and re.search(r'[",\d]$|true$|false$|null$', stripped):
        return stripped.rstrip(",") + "\n}\n", "closed an object cut off after its last complete member"
    return text, ""


def _decode(text: str, strict: bool) -> Any:
    return json.loads(text, strict=strict, object_pairs_hook=_object_pairs)


def parse_system_json(text: str, file: str) -> tuple[dict[str, Any], list[str]]:
    """The record of a system JSON and the repairs it needed (see the module docstring).

    Raises :class:`InputError` naming ``file`` and the line of the (first) error for malformed JSON.
    """
    repairs: list[str] = []
    try:
        record = _decode(text, strict=True)
    except json.JSONDecodeError as first_error:
        candidate, record, decoded = text, None, False
        for repair in (None, _remove_trailing_commas, _insert_missing_commas, _close_cut_off_object):
            if repair is not None:
                fixed, note = repair(candidate)
                if fixed == candidate:
                    continue
                candidate = fixed
                repairs.append(note)
            try:
                record, decoded = _decode(candidate, strict=False), True
                break
            except json.JSONDecodeError:
                continue
        if not decoded:
            raise InputError(file, f"malformed JSON: {first_error.msg} (column {first_error.colno})",
                             line=first_error.lineno) from None
        try:
            _decode(candidate, strict=True)
        except json.JSONDecodeError:
            repairs.insert(0, "accepted a raw control character (line break) inside a string")
    if not isinstance(record, dict):
        raise InputError(file, f"a system description must be a JSON object, not {type(record).__name__}", line=1)
    return record, repairs


def read_system(path: Path, rel: str) -> SystemRecord:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(str(path), f"not UTF-8 text (byte {e.start})") from None
    record, repairs = parse_system_json(text, str(path))
    return SystemRecord(path, rel, record, repairs)


_QUANTITY_TOKEN = re.compile(r"(?<![A-Za-z\d.])(\d+(?:\.\d+)?)\s*([A-Za-zµ]+)?")
_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)(?=\s*[A-Za-zµ])")
_MULTIPLIERS = {"dual": 2, "quad": 4}


def quantity(system: SystemRecord, key: str, dimension: str) -> Decimal | None:
    """The figure a free-text field states, in the dimension's canonical unit, or None if not given.

    A plain "<number> <unit>" is converted directly. Free text is searched for quantities with a unit of
    the dimension: parts joined by '+' are summed ('2MB+32KB'), a range gives its upper bound
    ('187-200MHz'), 'Dual'/'Quad' multiply, and of several stated figures the highest is taken (the
    peak clock of a multi-cluster CPU). Raises :class:`InputError` (file and field) when the text states
    no quantity with a known unit.
    """
    values = system.texts(key)
    if not values:
        return None
    text = values[0]
    try:
        return parse_quantity(text, dimension)
    except UnitError as direct_error:
        error = direct_error
    normalized = _RANGE.sub(r"\2", text)
    found: list[Decimal] = []
    for term in normalized.split("+"):
        best: Decimal | None = None
        multiplier = next((m for word, m in _MULTIPLIERS.items() if re.search(rf"\b{word}\b", term, re.I)), 1)
        for number, unit in _QUANTITY_TOKEN.findall(term):
            if not unit:
                continue
            try:
                value = parse_quantity(f"{number} {unit}", dimension) * multiplier
            except UnitError:
                continue
            best = value if best is None else max(best, value)
        if best is not None:
            found.append(best)
    if not found:
        raise InputError(str(system.path), f"{error}", field_name=key.strip())
    return sum(found, Decimal(0)) if "+" in normalized and len(found) > 1 else max(found)


def _operating_system(system: SystemRecord) -> str | None:
    for value in system.values("Operating System"):
        if isinstance(value, str):
            # "bare-metal", "Bare Metal" and the published typo "bare-mental" name the same thing
            return "bare metal" if re.fullmatch(r"bare[\s-]*men?tal", value, re.I) else value
        if isinstance(value, dict):
            parts = []
            for name, detail in value.items():
                version = detail.get("OS version") if isinstance(detail, dict) else None
                parts.append(f"{name} {version}".strip() if isinstance(version, str) else name)
            return ", ".join(parts) or None
    return None


def _cpu_cores(system: SystemRecord) -> int | None:
    text = system.first("Number of Processor(s)")
    if text and re.fullmatch(r"\d+(\s*\+\s*\d+)*", text):
        return sum(int(n) for n in text.split("+"))
    return None


@dataclass(frozen=True)
class QuantizationFacts:
    bit_width: int | None
    scheme: str | None


def quantization_facts(method: str) -> QuantizationFacts:
    """Bit width and scheme where the published quantization text states them (nothing is guessed)."""
    low = method.lower()
    bits = None
    m = re.search(r"\b(?:u?int|fp|float)\s*(\d{1,2})\b|\b(\d{1,2})[\s-]*bits?\b", low)
    if m:
        bits = int(m.group(1) or m.group(2))
    scheme = None
    if "quantization-aware" in low or "quantization aware" in low or re.search(r"\bqat\b", low):
        scheme = "qat"
    elif re.search(r"\bptq\b|post[\s-]*training|calibrat", low):
        scheme = "static"
    elif re.search(r"\bdynamic\b", low):
        scheme = "dynamic"
    elif re.search(r"\bfp\s*16\b|\bfloat\s*16\b", low):
        scheme = "fp16"
    return QuantizationFacts(bits, scheme)


# ---------------------------------------------------------------------------------------------------
# Result files
# ---------------------------------------------------------------------------------------------------


def _single(values: list[str], what: str) -> tuple[str | None, str | None]:
    """The one value of repeated summary lines, or a skip reason if they disagree or are absent."""
    distinct = list(dict.fromkeys(values))
    if not distinct:
        return None, f"no {what} line"
    if len(distinct) > 1:
        return None, f"conflicting {what} lines: {', '.join(distinct)}"
    return distinct[0], None


def _decimal(text: str) -> Decimal | None:
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def read_result_file(kind: str, benchmark: str, path: Path) -> tuple[Decimal | None, str | None]:
    """The figure of one results file (throughput in inf/s, energy in uJ, accuracy as 0-1) or a reason
    to skip it. An energy unit that is not an energy unit raises :class:`InputError`."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if kind == "performance":
        value, reason = _single(_MEDIAN_THROUGHPUT.findall(text), "median throughput")
        if value is None:
            return None, reason
        d = _decimal(value)
        if d is None or d <= 0:
            return None, f"median throughput {value!r} is not a positive number"
        return d, None
    if kind == "energy":
        value, reason = _single([f"{v} {u}" for v, u in _MEDIAN_ENERGY.findall(text)], "median energy")
        if value is None:
            return None, reason
        try:
            d = parse_quantity(value, "energy")
        except UnitError as e:
            raise InputError(str(path), str(e), field_name="Median energy cost") from None
        if d <= 0:
            return None, f"median energy {value!r} is not positive"
        return d, None
    if ACCURACY_METRICS[benchmark] == "AUC":
        value, reason = _single([v.rstrip(",;") for v in _AUC.findall(text)], "AUC")
        scale = Decimal(1)
    else:
        value, reason = _single([a or b for a, b in _TOP1.findall(text)], "Top-1 accuracy")
        scale = Decimal(100)
    if value is None:
        return None, reason
    d = _decimal(value)
    if d is None or not (0 <= d / scale <= 1):
        return None, f"accuracy {value!r} is not within 0-{scale}"
    return d / scale, None


def collect_result_groups(submission: Submission, rel_of: Any, skipped: list[tuple[str, str]]) -> list[ResultGroup]:
    """Every result group under the submission's results/ folder; files that fit no group are skipped."""
    results = submission.folder / "results"
    if not results.is_dir():
        return []
    groups: dict[tuple[str, str, str | None], ResultGroup] = {}
    for file in sorted(p for p in results.rglob("*") if p.is_file()):
        parts = file.relative_to(results).parts
        if file.name.startswith("._") or file.name.startswith("."):
            skipped.append((rel_of(file), "hidden or macOS resource-fork file, not a result"))
            continue
        if not RESULT_FILE.match(file.name):
            skipped.append((rel_of(file), "not a results summary (only results.txt is read)"))
            continue
        kind = parts[-2].lower() if len(parts) >= 2 else ""
        if kind not in RESULT_KINDS:
            skipped.append((rel_of(file), "results file outside a performance/, accuracy/ or energy/ folder"))
            continue
        middle = parts[:-2]
        bench_at = next((i for i, p in enumerate(middle) if p.lower() in BENCHMARK_FOLDERS), None)
        if bench_at is None or bench_at == 0:
            skipped.append((rel_of(file), f"no known benchmark folder in {'/'.join(middle) or '(none)'} (this "
                                          "importer reads kws, vww, ic, ad and their long names; a benchmark it "
                                          "does not know is skipped)"))
            continue
        system_key = "/".join(middle[:bench_at])
        benchmark = BENCHMARK_FOLDERS[middle[bench_at].lower()]
        variant = "/".join(middle[bench_at + 1:]) or None
        key = (system_key, benchmark, variant)
        group = groups.get(key)
        if group is None:
            group = groups[key] = ResultGroup(system_key, benchmark, variant, file.parent.parent)
        if kind in group.files:
            # the benchmark folder is spelled two ways: the spelling the round READMEs prescribe
            # (kws, vww, ic, ad) wins, else the first in path order
            kept, dropped = group.files[kind], file
            if middle[bench_at].lower() == benchmark and kept.relative_to(results).parts[bench_at].lower() != benchmark:
                kept, dropped = file, kept
            group.files[kind] = kept
            skipped.append((rel_of(dropped), f"second {kind} results file for {system_key}/{benchmark} "
                                             f"(benchmark folder spelled two ways); {rel_of(kept)} is used"))
            continue
        group.files[kind] = file
    return list(groups.values())


_STOP_TOKENS = {"system", "description", "json"}


def _name_tokens(name: str) -> frozenset[str]:
    return frozenset(t for t in re.findall(r"[a-z]+|\d+", name.lower()) if t not in _STOP_TOKENS)


def match_system(system_key: str, systems: dict[str, SystemRecord]) -> tuple[SystemRecord | None, str | None]:
    """The system description a results folder belongs to, or a reason why none is.

    Folder and JSON names are compared as sets of letter and digit runs, ignoring 'system' and
    'description' ('Nucleo-L4R5ZI' ~ 'Nucleo_L4R5ZI_System_Description.json',
    'microtvm_cmsis_nn/NRF5340-DK' ~ 'system_description_NRF5340DK_microtvm_cmsis_nn.json'); failing an
    equal set, one set containing the other ('pynq-z2' ~ 'system_description_pynq.json') if that
    picks one JSON.
    """
    if not systems:
        return None, "no system description JSON in this submission's systems/ folder"
    want = _name_tokens(system_key)
    exact = [s for stem, s in systems.items() if _name_tokens(stem) == want]
    if len(exact) == 1:
        return exact[0], None
    candidates = exact or [s for stem, s in systems.items()
                           if _name_tokens(stem) and (_name_tokens(stem) <= want or want <= _name_tokens(stem))]
    if len(candidates) == 1:
        return candidates[0], None
    if not candidates:
        return None, f"no system description JSON matches system folder {system_key!r}"
    names = ", ".join(sorted(s.path.name for s in candidates))
    return None, f"system folder {system_key!r} matches several system descriptions ({names})"


# ---------------------------------------------------------------------------------------------------
# The import
# ---------------------------------------------------------------------------------------------------


def _dln(triples: TripleBuilder, benchmark: str, variant: str | None, submission: Submission) -> NamedNode:
    """The DLN of a result group: the reference network in the closed division; in the open division,
    where submitters may change the network, one DLN per submitter's model (named by its folder)."""
    if submission.division == "closed":
        iri = entity("dln", "mlperf-tiny", benchmark)
        ref = REFERENCE_NETWORKS[benchmark]
        triples.add(iri, RDF.type, DLOM.DLN)
        triples.add(iri, RDFS.label, ref.label)
        triples.add(iri, DLOM.architectureFamily, ref.family)
        triples.add(iri, DLOM.numberOfLayers, ref.layers_with_weights)
        triples.add(iri, DLOM.numberOfInputs, ref.inputs)
        triples.add(iri, DLOM.numberOfOutputs, ref.outputs)
        triples.add(iri, DLOM.activationFunction, ref.activation)
    else:
        if variant:
            iri = entity("dln", "mlperf-tiny-open", submission.submitter, benchmark, variant)
            label = f"{variant} ({submission.submitter}, MLPerf Tiny open division {benchmark})"
        else:
            iri = entity("dln", "mlperf-tiny-open", submission.submitter, benchmark, submission.round)
            label = f"{submission.submitter} {TASKS[benchmark]} model (MLPerf Tiny {submission.round} open division)"
        triples.add(iri, RDF.type, DLOM.DLN)
        triples.add(iri, RDFS.label, label)
    triples.add(iri, DLOM.task, TASKS[benchmark])
    triples.add(iri, DLOM.trainingDataset, TRAINING_DATASETS[benchmark])
    return iri


@dataclass
class DeviceStack:
    """The IRIs a device's software stack contributes to each model run on it."""

    device: NamedNode
    frameworks: list[NamedNode]
    compilers: list[NamedNode]
    optimizations: list[NamedNode]
    software_versions: str | None


def source_file(triples: TripleBuilder, iris: IriRegistry, rel: str, comment: str | None = None,
                scope: tuple[str, ...] = ()) -> NamedNode:
    """The ``dlom:SourceFile`` of ``rel`` (its path inside the published tree), its IRI under ``scope``
    (an importer whose paths could meet another's, e.g. both start with 'v0.5', names its source)."""
    iri = iris.claim(entity("source-file", *scope, *rel.split("/")), ("source-file", *scope, rel), rel)
    triples.add(iri, RDF.type, DLOM.SourceFile)
    triples.add(iri, RDFS.label, rel)
    triples.add(iri, DLOM.sourcePath, rel)
    if comment:
        triples.add(iri, RDFS.comment, comment)
    return iri


def describe_device(triples: TripleBuilder, iris: IriRegistry, submission: Submission, system: SystemRecord,
                    hardware: HardwareCollector | None = None) -> DeviceStack:
    """The triples of one system description; raises InputError for an unknown unit. The device is
    recorded in ``hardware`` as a configuration of the board its 'Board Name' names
    (:func:`kg.hardware.identify_hardware`)."""
    stem = system.path.stem
    device = iris.claim(entity("device", submission.round, submission.division, submission.submitter, stem),
                        ("device", submission.round, submission.division, submission.submitter, stem), system.rel)
    board = system.first("Board Name") or stem
    if hardware is not None and system.first("Board Name"):
        hardware.add(identify_hardware(board, "board"), device)
    triples.add(device, RDF.type, DLOM.EndDevice)
    triples.add(device, RDFS.label, f"{board} ({submission.submitter}, MLPerf Tiny {submission.round} "
                                    f"{submission.division}: {stem})")
    triples.add(device, DLOM.sourceRecord, literal(system.record))
    for prop, key in ((DLOM.board, "Board Name"), (DLOM.soc, "SoC Name"), (DLOM.processor, "Processor(s) Name"),
                      (DLOM.accelerator, "Accelerator")):
        text = system.first(key)
        if text:
            triples.add(device, prop, text)
    figures = (
        (DLOM.clockFrequencyMHz, ("Processor(s) Frequencies",), "frequency"),
        (DLOM.acceleratorFrequencyMHz, ("Accelerator(s) Frequencies",), "frequency"),
        # on-chip RAM when published, else the board's RAM
        (DLOM.memoryKB, ("SoC Memory capacity (not including processor or accelerator)", "SoC Memory capacity",
                         "Board Memory capacity (not including SoC, processor, or accelerator)"), "memory"),
        (DLOM.storageKB, ("SoC storage capacity", "Board storage capacity"), "memory"),
    )
    for prop, keys, dimension in figures:
        for key in keys:
            value = quantity(system, key, dimension)
            if value is not None:
                if value > 0:
                    triples.add(device, prop, value)
                break
    os_name = _operating_system(system)
    if os_name:
        triples.add(device, DLOM.operatingSystem, os_name)
    cores = _cpu_cores(system)
    if cores:
        triples.add(device, DLOM.cpuCores, cores)
    triples.add(device, PROV.wasDerivedFrom, source_file(triples, iris, system.rel, "; ".join(system.repairs) or None))

    frameworks = []
    for name in system.texts("Inference Framework"):
        iri = entity("framework", name)
        add_framework(triples, iri, name)
        triples.add(device, DLOM.usesFramework, iri)
        frameworks.append(iri)
    compilers = []
    for name in system.texts("General Compiler(s)"):
        iri = entity("compiler", name)
        triples.add(iri, RDF.type, DLOM.Compiler)
        triples.add(iri, RDFS.label, name)
        compilers.append(iri)
    optimizations = []
    for method in system.texts("Quantization Method"):
        iri = entity("quantization", method)
        facts = quantization_facts(method)
        triples.add(iri, RDF.type, DLOM.Quantization)
        triples.add(iri, RDFS.label, f"Quantization: {method}")
        triples.add(iri, DLOM.toolName, method)
        if facts.bit_width is not None:
            triples.add(iri, DLOM.bitWidth, facts.bit_width)
        if facts.scheme is not None:
            triples.add(iri, DLOM.quantizationScheme, facts.scheme)
        optimizations.append(iri)
    for name in system.texts("ML Model Compiler(s)"):
        iri = entity("hardware-optimization", name)
        triples.add(iri, RDF.type, DLOM.HardwareOptimization)
        triples.add(iri, RDFS.label, f"ML model compiler: {name}")
        triples.add(iri, DLOM.toolName, name)
        optimizations.append(iri)
    versions = list(dict.fromkeys(system.texts("Inference Framework", "ML Model Compiler(s)", "General Compiler(s)")))
    return DeviceStack(device, frameworks, compilers, optimizations, "; ".join(versions) or None)


def name_only_reason(submission: Submission, match_failure: str | None, has_systems: bool) -> str:
    """Why a results folder's device is known by name only, for its ``rdfs:comment``.

    ``match_failure`` is :func:`match_system`'s reason; ``has_systems`` says whether the submission
    publishes any system description JSON at all.
    """
    if not has_systems:
        if (submission.folder / "systems").is_dir():
            return "the submission published no system description (its systems/ folder holds no JSON)"
        return "the submission published no system description (it has no systems/ folder)"
    return f"none of the submission's system descriptions can be told to be this one ({match_failure})"


def describe_named_device(triples: TripleBuilder, iris: IriRegistry, submission: Submission, system_key: str,
                          folder_rel: str, why: str, published_none: bool) -> DeviceStack:
    """A device known only by the name of its results folder (``system_key``, as published).

    States the label, the published name, ``dlom:describedOnlyByName true`` and why (``rdfs:comment``),
    and nothing else: hardware and software are unknown, not absent. Its stack is empty.
    ``published_none`` says the submission published no system description at all (else none matched).
    """
    # a "results" segment keeps these IRIs apart from described devices' (device/<round>/<div>/<sub>/<json>),
    # even where a folder name slugs like a system JSON that could not be told to be its description
    parts = (submission.round, submission.division, submission.submitter, "results", system_key)
    device = iris.claim(entity("device", *parts), ("name-only device", *parts), folder_rel)
    missing = "no system description" if published_none else "no matching system description"
    triples.add(device, RDF.type, DLOM.EndDevice)
    triples.add(device, RDFS.label, f"{system_key} ({submission.submitter}, MLPerf Tiny {submission.round} "
                                    f"{submission.division}: name only, {missing})")
    triples.add(device, DLOM.publishedName, system_key)
    triples.add(device, DLOM.describedOnlyByName, True)
    triples.add(device, RDFS.comment, f"Known only by the name of its results folder {folder_rel}: {why}. Its "
                                      "hardware and software stack are not published with these results.")
    return DeviceStack(device, [], [], [], None)


def describe_result(triples: TripleBuilder, iris: IriRegistry, submission: Submission, group: ResultGroup,
                    stack: DeviceStack, system: SystemRecord | None, figures: Figures, rel_of: Any) -> None:
    """The Model, its MeasuredPerformance and their provenance for one result group (``system`` is None
    for a device known by name only)."""
    parts = (submission.round, submission.division, submission.submitter, group.system_key, group.benchmark)
    parts += (group.variant,) if group.variant else ()
    where = rel_of(group.folder)
    model = iris.claim(entity("model", *parts), ("model", *parts), where)
    performance = iris.claim(entity("performance", *parts), ("performance", *parts), where)
    name = f"{group.benchmark}{'/' + group.variant if group.variant else ''} on {group.system_key} " \
           f"({submission.submitter}, MLPerf Tiny {submission.round} {submission.division})"
    dln = _dln(triples, group.benchmark, group.variant, submission)

    triples.add(model, RDF.type, DLOM.Model)
    triples.add(model, RDFS.label, name)
    triples.add(model, DLOM.usesDLN, dln)
    triples.add(model, DLOM.deployedOn, stack.device)
    for iri in stack.optimizations:
        triples.add(model, DLOM.appliesOptimization, iri)
    for iri in stack.frameworks:
        triples.add(model, DLOM.usesFramework, iri)
    for iri in stack.compilers:
        triples.add(model, DLOM.usesCompiler, iri)
    year = ROUND_YEARS.get(submission.round)
    if year:
        triples.add(model, DLOM.yearCreated, year)
    triples.add(model, DLOM.purpose, TASKS[group.benchmark])
    triples.add(model, DLOM.benchmark, group.benchmark)
    triples.add(model, DLOM.benchmarkRound, submission.round)
    triples.add(model, DLOM.division, submission.division)
    triples.add(model, DLOM.hasPerformance, performance)

    run_parts = (submission.round, submission.division, submission.submitter, group.system_key)
    run = iris.claim(entity("benchmark-run", *run_parts), ("run", *run_parts), where)
    submitter = entity("submitter", submission.submitter)
    triples.add(submitter, RDF.type, DLOM.Submitter)
    triples.add(submitter, RDFS.label, submission.submitter)
    triples.add(run, RDF.type, DLOM.BenchmarkRun)
    triples.add(run, RDFS.label, f"MLPerf Tiny {submission.round} {submission.division} submission of "
                                 f"{submission.submitter}: {group.system_key}")
    triples.add(run, PROV.wasAssociatedWith, submitter)
    triples.add(run, DLOM.benchmarkRound, submission.round)
    triples.add(run, DLOM.division, submission.division)
    if year:
        triples.add(run, DCTERMS.date, Literal(str(year), datatype=XSD.gYear))
    if stack.software_versions:
        triples.add(run, DLOM.softwareVersions, stack.software_versions)

    triples.add(performance, RDF.type, DLOM.MeasuredPerformance)
    triples.add(performance, RDFS.label, f"Measured performance of {name}")
    if figures.throughput is not None:
        triples.add(performance, DLOM.throughputIps, figures.throughput)
        triples.add(performance, DLOM.inferenceLatencyMs, _LATENCY_CONTEXT.divide(Decimal(1000), figures.throughput))
    if figures.energy_uj is not None:
        triples.add(performance, DLOM.energyPerInferenceUj, figures.energy_uj)
    if figures.accuracy is not None:
        triples.add(performance, DLOM.accuracy, figures.accuracy)
        triples.add(performance, DLOM.accuracyMetric, ACCURACY_METRICS[group.benchmark])
    triples.add(performance, PROV.wasGeneratedBy, run)
    for file in figures.used:
        triples.add(performance, PROV.wasDerivedFrom, source_file(triples, iris, rel_of(file)))
    if system is not None:  # a device known by name only was described by no file
        triples.add(performance, PROV.wasDerivedFrom, source_file(triples, iris, system.rel))


@register_importer("mlperf-tiny")
def import_mlperf_tiny(store: Store, path: Path, progress: Progress = NoProgress(),
                       round_name: str | None = None) -> ImportReport:
    """Import an MLPerf Tiny results tree (whole tree, round, division or submitter folder).

    All or nothing: raises :class:`InputError` (malformed JSON with file and line, unknown unit with file
    and field) or :class:`kg.errors.ValidationError` before anything is written. Returns the counts of
    what was written and every skipped file with its reason.
    """
    path = Path(path)
    root, submissions = locate_submissions(path, round_name)
    report = ImportReport(source=str(path))

    def rel_of(p: Path) -> str:
        return p.resolve().relative_to(root).as_posix()

    files_total = sum(1 for s in submissions for sub in ("systems", "results") if (s.folder / sub).is_dir()
                      for p in (s.folder / sub).rglob("*") if p.is_file())
    progress.start(files_total, f"Reading MLPerf Tiny files under {path}")
    collected = _Collected()
    for submission in submissions:
        _collect_submission(collected, submission, rel_of, report.skipped, progress)
    report.counts = collected.summary(len(report.skipped))  # before writing: it adds the hardware entities
    report.triples = write_triples(store, collected.triples, source=str(path)).triples
    return report


@dataclass
class _Collected:
    """What an import has described so far: the triples to write, the IRIs given out, the hardware
    entities seen and the running counts."""

    triples: TripleBuilder = field(default_factory=TripleBuilder)
    iris: IriRegistry = field(default_factory=IriRegistry)
    hardware: HardwareCollector = field(default_factory=HardwareCollector)
    counts: dict[str, int] = field(default_factory=lambda: {
        "devices": 0, "name_only_devices": 0, "models": 0, "performances": 0, "repaired_json_files": 0})

    def summary(self, skipped_files: int) -> dict[str, int]:
        """The report's counts, once every submission is collected; adds the hardware entities to the triples."""
        counts = dict(self.counts, hardware=self.hardware.write(self.triples))
        typed = _count_types(self.triples)
        counts.update({
            "dlns": typed.get(DLOM.DLN.value, 0),
            "frameworks": typed.get(DLOM.Framework.value, 0),
            "compilers": typed.get(DLOM.Compiler.value, 0),
            "quantizations": typed.get(DLOM.Quantization.value, 0),
            "hardware_optimizations": typed.get(DLOM.HardwareOptimization.value, 0),
            "submitters": typed.get(DLOM.Submitter.value, 0),
            "benchmark_runs": typed.get(DLOM.BenchmarkRun.value, 0),
            "source_files": typed.get(DLOM.SourceFile.value, 0),
            "skipped_files": skipped_files,
        })
        return counts


def _collect_submission(collected: _Collected, submission: Submission, rel_of: Callable[[Path], str],
                        skipped: list[tuple[str, str]], progress: Progress) -> None:
    """Describe one submission: its system descriptions as devices, then each result group with a
    figure as a model with its measured performance (on a name-only device when no description fits)."""
    systems = _read_systems(submission, rel_of, skipped, progress)
    collected.counts["repaired_json_files"] += sum(bool(s.repairs) for s in systems.values())
    stacks = {stem: describe_device(collected.triples, collected.iris, submission, system, collected.hardware)
              for stem, system in systems.items()}
    collected.counts["devices"] += len(stacks)

    skipped_before = len(skipped)
    groups = collect_result_groups(submission, rel_of, skipped)
    progress.advance(len(skipped) - skipped_before)  # files that fit no group
    named: dict[str, DeviceStack] = {}  # devices known by name only, by results folder name
    for group in groups:
        progress.advance(len(group.files))
        system, reason = match_system(group.system_key, systems)
        figures = _read_figures(group, rel_of, skipped)
        if not figures.used:
            continue
        if system is not None:
            stack = stacks[system.path.stem]
        elif group.system_key in named:
            stack = named[group.system_key]
        else:
            # the results are real measurements: keep them, on a device that is honestly only a name
            folder = rel_of(submission.folder / "results" / group.system_key)
            why = name_only_reason(submission, reason, bool(systems))
            stack = named[group.system_key] = describe_named_device(collected.triples, collected.iris, submission,
                                                                    group.system_key, folder, why, published_none=not systems)
        describe_result(collected.triples, collected.iris, submission, group, stack, system, figures, rel_of)
        collected.counts["models"] += 1
        collected.counts["performances"] += 1
    collected.counts["devices"] += len(named)
    collected.counts["name_only_devices"] += len(named)


def _read_systems(submission: Submission, rel_of: Callable[[Path], str], skipped: list[tuple[str, str]],
                  progress: Progress) -> dict[str, SystemRecord]:
    """The submission's system descriptions by file stem; every other file under systems/ is skipped
    with its reason."""
    systems: dict[str, SystemRecord] = {}
    systems_dir = submission.folder / "systems"
    for file in sorted(p for p in systems_dir.rglob("*") if p.is_file()) if systems_dir.is_dir() else []:
        progress.advance()
        if file.name.startswith("."):
            skipped.append((rel_of(file), "macOS resource-fork file (AppleDouble), not a system description"
                            if file.name.startswith("._") else "hidden file, not a system description"))
        elif file.suffix.lower() != ".json":
            skipped.append((rel_of(file), "not a system description (.json)"))
        elif file.stem in systems:
            skipped.append((rel_of(file), f"a second system description named {file.stem!r}; {systems[file.stem].rel} is used"))
        else:
            systems[file.stem] = read_system(file, rel_of(file))
    return systems


def _read_figures(group: ResultGroup, rel_of: Callable[[Path], str], skipped: list[tuple[str, str]]) -> Figures:
    """The figures of one result group's files (throughput, energy, accuracy); a file without one is skipped."""
    figures = Figures()
    for kind in RESULT_KINDS:
        file = group.files.get(kind)
        if file is None:
            continue
        value, why = read_result_file(kind, group.benchmark, file)
        if value is None:
            skipped.append((rel_of(file), why or "no figure"))
            continue
        if kind == "performance":
            figures.throughput = value
        elif kind == "energy":
            figures.energy_uj = value
        else:
            figures.accuracy = value
        figures.used.append(file)
    return figures


def _count_types(triples: Iterable[Triple]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for t in triples:
        if t.predicate == RDF.type and isinstance(t.object, NamedNode):
            counts[t.object.value] = counts.get(t.object.value, 0) + 1
    return counts
