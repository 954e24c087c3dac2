"""``dlom import records``: anyone's own measured configurations, as CSV or JSON (docs/record-format.md).

One record is one measured model: its label, the DLN it uses, the end device it runs on (with specs),
the optimization techniques applied (with parameters, in order), an optional cloud configuration,
the measured metrics and the provenance (submitter, date, source, notes).

The module also holds what the record-shaped importers share (``tags`` uses it too):
:class:`FieldReader` turns one raw field into a checked value or an :class:`InputError` naming the
file, line and field; :class:`EntityResolver` reuses DLNs, devices and frameworks already in the store
(by IRI or exact label); :func:`write_new_triples` drops what the store already holds and writes the
rest in one validated transaction, translating SHACL violations back to the line and field they came
from.
"""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from kg.binding import values_rows
from kg.errors import InputError, ValidationError, Violation
from kg.framework_names import add_framework
from kg.importers import ImportReport, register_importer
from kg.namespaces import DLOM, PREFIXES, PROV, RDF, RDFS, Namespace, entity
from kg.progress import NoProgress, Progress
from kg.store import Store
from kg.terms import literal
from kg.units import UnitError, parse_quantity
from kg.writes import TripleBuilder, write_triples

DCTERMS = Namespace("http://purl.org/dc/terms/")

_IRI_REFERENCE = re.compile(r"^(https?|urn):\S+$")
_CHUNK = 300  # VALUES rows per store look-up query


# ------------------------------------------------------------------------------------------------
# Shared by the record-shaped importers
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldReader:
    """Reads the raw fields of one record, raising :class:`InputError` with file, line and field."""

    file: str
    line: int | None

    def fail(self, name: str | None, reason: str) -> InputError:
        return InputError(self.file, reason, line=self.line, field_name=name)

    def text(self, name: str, raw: Any) -> str | None:
        """A stripped string, or None for an absent or empty field (empty fields are ignored)."""
        if raw is None:
            return None
        if isinstance(raw, (dict, list)):
            raise self.fail(name, f"expected a text value, got {type(raw).__name__}")
        s = str(raw).strip()
        return s or None

    def number(
        self,
        name: str,
        raw: Any,
        *,
        minimum: Decimal | int | None = None,
        maximum: Decimal | int | None = None,
        exclusive_minimum: bool = False,
        integer: bool = False,
    ) -> Decimal | int | None:
        """A number in the given range (``None`` for an empty field)."""
        if isinstance(raw, bool):
            raise self.fail(name, f"{raw!r} is not a number")
        s = self.text(name, raw)
        if s is None:
            return None
        try:
            value = Decimal(s.replace(",", "")) if not isinstance(raw, (int, float)) else Decimal(repr(raw))
        except InvalidOperation:
            raise self.fail(name, f"{s!r} is not a number") from None
        if not value.is_finite():
            raise self.fail(name, f"{s!r} is not a finite number")
        return self._in_range(name, value, minimum, maximum, exclusive_minimum, integer)

    def quantity(
        self,
        name: str,
        raw: Any,
        dimension: str,
        default_unit: str | None,
        *,
        minimum: Decimal | int | None = None,
        maximum: Decimal | int | None = None,
        exclusive_minimum: bool = False,
        scale: Decimal = Decimal(1),
    ) -> Decimal | None:
        """A quantity with a unit (kg.units), in the canonical unit of ``dimension`` divided by ``scale``."""
        if isinstance(raw, bool):
            raise self.fail(name, f"{raw!r} is not a {dimension} quantity")
        s = self.text(name, raw)
        if s is None:
            return None
        try:
            value = parse_quantity(s, dimension, default_unit) / scale
        except UnitError as e:
            raise self.fail(name, str(e)) from None
        value = value.normalize() if value == value.to_integral_value() else value
        result = self._in_range(name, value, minimum, maximum, exclusive_minimum, False)
        assert isinstance(result, Decimal)
        return result

    def _in_range(
        self, name: str, value: Decimal, minimum: Any, maximum: Any, exclusive_minimum: bool, integer: bool
    ) -> Decimal | int:
        if integer:
            if value != value.to_integral_value():
                raise self.fail(name, f"{value} is not a whole number")
        lo_ok = minimum is None or (value > minimum if exclusive_minimum else value >= minimum)
        hi_ok = maximum is None or value <= maximum
        if not (lo_ok and hi_ok):
            lo = "(" if exclusive_minimum else "["
            if minimum is not None and maximum is not None:
                raise self.fail(name, f"{value} is not in {lo}{minimum}, {maximum}]")
            if minimum is not None:
                raise self.fail(name, f"{value} must be {'>' if exclusive_minimum else '≥'} {minimum}")
            raise self.fail(name, f"{value} must be ≤ {maximum}")
        return int(value) if integer else value

    def boolean(self, name: str, raw: Any) -> bool | None:
        if isinstance(raw, bool):
            return raw
        s = self.text(name, raw)
        if s is None:
            return None
        lowered = s.lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
        raise self.fail(name, f"{s!r} is not a boolean (true/false)")

    def date(self, name: str, raw: Any) -> dt.date | None:
        s = self.text(name, raw)
        if s is None:
            return None
        try:
            return dt.date.fromisoformat(s)
        except ValueError:
            raise self.fail(name, f"{s!r} is not a date (expected YYYY-MM-DD)") from None

    def json_text(self, name: str, raw: Any) -> Any:
        """A JSON value given as JSON text (or already parsed, in JSON input)."""
        if isinstance(raw, (dict, list)):
            return raw
        s = self.text(name, raw)
        if s is None:
            return None
        try:
            return json.loads(s)
        except json.JSONDecodeError as e:
            raise self.fail(name, f"not valid JSON: {e.msg}") from None


class EntityResolver:
    """Finds entities a record refers to.

    A reference that looks like an IRI (``http(s)://…`` or ``urn:…``) must name an entity of the
    expected class in the store (or one the same import creates). Any other reference is a label:
    an entity of that class with exactly that ``rdfs:label`` in the store is reused; none means the
    import creates one; several is an error (the record must then use an IRI).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._by_label: dict[tuple[str, str], list[NamedNode]] = {}
        self._typed: dict[tuple[str, str], bool] = {}

    def is_iri(self, ref: str) -> bool:
        return bool(_IRI_REFERENCE.match(ref))

    def store_has(self, iri: str, cls: NamedNode) -> bool:
        key = (iri, cls.value)
        if key not in self._typed:
            q = "ASK WHERE { ?s a/rdfs:subClassOf* ?cls }"
            self._typed[key] = self.store.ask(_SPARQL_PREFIXES + q, substitutions={"s": NamedNode(iri), "cls": cls})
        return self._typed[key]

    def by_label(self, label: str, cls: NamedNode) -> list[NamedNode]:
        """Entities of ``cls`` (or a subclass) in the store whose label is exactly ``label``."""
        key = (label, cls.value)
        if key not in self._by_label:
            q = ("SELECT DISTINCT ?s WHERE { ?s a/rdfs:subClassOf* ?cls ; rdfs:label ?l . "
                 "FILTER(STR(?l) = ?label) } ORDER BY ?s")
            result = self.store.select(_SPARQL_PREFIXES + q, substitutions={"cls": cls, "label": Literal(label)})
            self._by_label[key] = [row[0] for row in result.rows if isinstance(row[0], NamedNode)]
        return self._by_label[key]

    def resolve(
        self, reader: FieldReader, name: str, ref: str, cls: NamedNode, new_iri: NamedNode,
        created: set[str] = frozenset(),  # type: ignore[assignment]
    ) -> tuple[NamedNode, bool]:
        """The entity ``ref`` names and whether it is new (the caller then describes it).

        ``created`` holds IRIs the same import creates, which an IRI reference may also name.
        """
        if self.is_iri(ref):
            if ref in created or self.store_has(ref, cls):
                return NamedNode(ref), False
            raise reader.fail(name, f"<{ref}> is not a {_short(cls.value)} in the store")
        found = self.by_label(ref, cls)
        if len(found) > 1:
            listed = ", ".join(f"<{n.value}>" for n in found[:5])
            raise reader.fail(name, f"{ref!r} matches {len(found)} {_short(cls.value)} entities in the store "
                                    f"({listed}); refer to one by IRI")
        if found:
            return found[0], False
        if self.store_has(new_iri.value, cls):
            # Same IRI, label spelt differently ("TensorFlow Lite" / "Tensorflow-lite"): IRIs come from
            # slugs, so it is the same entity; reuse it rather than give it a second label.
            return new_iri, False
        return new_iri, True


_SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def _short(iri: str) -> str:
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


def triples_in_store(store: Store, triples: Sequence[Triple]) -> set[Triple]:
    """Those of ``triples`` the store already holds (in any graph). Blank-node triples are never
    considered present (their labels are local to one file)."""
    present: set[Triple] = set()
    checkable = [t for t in triples if not isinstance(t.subject, BlankNode) and not isinstance(t.object, BlankNode)]
    for i in range(0, len(checkable), _CHUNK):
        chunk = checkable[i : i + _CHUNK]
        rows = [(t.subject, t.predicate, t.object) for t in chunk]
        result = store.select(f"SELECT ?s ?p ?o WHERE {{ {values_rows(['s', 'p', 'o'], rows)} ?s ?p ?o }}")
        for s, p, o in result.rows:
            present.add(Triple(s, p, o))
    return present


def canonical_triples(triples: Sequence[Triple]) -> list[Triple]:
    """The distinct triples with literals in the store's canonical form (``"32.0"^^xsd:decimal`` is
    stored as ``"32"``), so they compare equal to what the store gives back."""
    scratch = ox.Store()
    scratch.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    return [q.triple for q in scratch]


def new_triples(store: Store, triples: Sequence[Triple]) -> list[Triple]:
    """The distinct triples (canonical form) that the store does not hold yet."""
    unique = canonical_triples(triples)
    present = triples_in_store(store, unique)
    return [t for t in unique if t not in present]


def write_new_triples(store: Store, batch: TripleBuilder, file: str) -> int:
    """Write the batch's triples the store does not hold yet, in one validated transaction.

    Dropping what is already there makes re-imports idempotent and turns a record that adds to an
    existing entity into an *extension* for validation (``sh:maxCount`` then counts the store's
    values too). A SHACL violation becomes an :class:`InputError` naming the line and field of the
    offending record (all violations are listed in the reason). Returns the number of triples written.
    """
    return write_checked(store, new_triples(store, batch.triples), batch, file)


def write_checked(store: Store, triples: list[Triple], batch: TripleBuilder, file: str) -> int:
    """:func:`kg.writes.write_triples` with SHACL violations reported as an :class:`InputError`
    located through ``batch`` (line and field of each focus node)."""
    if not triples:
        return 0
    try:
        return write_triples(store, triples, file).triples
    except ValidationError as e:
        raise located_error(e.violations, batch, file) from None


def located_error(violations: list[Violation], batch: TripleBuilder, file: str) -> InputError:
    """One :class:`InputError` listing every violation with the file, line and field it came from."""
    def where(v: Violation) -> tuple[str, int | None, str | None]:
        at_file, line = batch.location(v.focus)
        # A missing value (sh:minCount) has no field of its own in the input: name the property.
        return at_file or file, line, batch.field_for(v.focus, v.path) or v.path

    first_file, first_line, first_field = where(violations[0])
    lines = []
    for v in violations[:20]:
        at_file, line, name = where(v)
        at = at_file + (f":{line}" if line is not None else "") + (f" [{name}]" if name else "")
        lines.append(f"{at}: {v}")
    more = f"\n  ... and {len(violations) - 20} more" if len(violations) > 20 else ""
    reason = (f"{len(violations)} SHACL violation(s); nothing was written:\n  - " + "\n  - ".join(lines) + more)
    return InputError(first_file, reason, line=first_line, field_name=first_field)


def content_digest(data: bytes) -> str:
    """A short stable digest of a file's content (names the import activity of a file)."""
    return hashlib.sha256(data).hexdigest()[:16]


def read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise InputError(str(path), "file not found")
    if not path.is_file():
        raise InputError(str(path), "not a file")
    try:
        return path.read_bytes()
    except OSError as e:
        raise InputError(str(path), f"cannot read: {e.strerror or e}") from None


def decode_utf8(data: bytes, file: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(file, f"not UTF-8 text (byte {e.start})", line=line) from None


# ------------------------------------------------------------------------------------------------
# The records format
# ------------------------------------------------------------------------------------------------

#: Technique names accepted in ``optimizations`` → (class, accepted parameters → (property, kind)).
#: Kinds: ``int``/``fraction``/``positive``/``text``/``dln`` (a DLN reference).
TECHNIQUES: dict[str, tuple[NamedNode, dict[str, tuple[NamedNode, str]]]] = {
    "quantization": (DLOM.Quantization, {"bits": (DLOM.bitWidth, "bits"), "scheme": (DLOM.quantizationScheme, "text")}),
    "pruning": (DLOM.Pruning, {"sparsity": (DLOM.sparsity, "fraction"), "granularity": (DLOM.pruningGranularity, "text")}),
    "knowledge_distillation": (DLOM.KnowledgeDistillation, {"temperature": (DLOM.temperature, "positive"),
                                                            "teacher": (DLOM.teacherDLN, "dln")}),
    "tensor_decomposition": (DLOM.TensorDecomposition, {"rank": (DLOM.rank, "int"), "rank_ratio": (DLOM.rankRatio, "ratio")}),
    "fine_tuning": (DLOM.FineTuning, {"epochs": (DLOM.epochs, "int"), "learning_rate": (DLOM.learningRate, "positive")}),
    "hardware_optimization": (DLOM.HardwareOptimization, {}),
}
TECHNIQUE_ALIASES = {"quantisation": "quantization", "kd": "knowledge_distillation", "distillation": "knowledge_distillation",
                     "td": "tensor_decomposition", "low_rank": "tensor_decomposition", "finetuning": "fine_tuning",
                     "fine-tuning": "fine_tuning", "hardware": "hardware_optimization", "compiler": "hardware_optimization"}
COMMON_TECHNIQUE_PARAMETERS = {"tool": (DLOM.toolName, "text")}

#: Every field of a record (CSV column / JSON key). Unknown fields are an error, so typos surface.
RECORD_FIELDS = (
    "model", "dln", "dln_task", "dln_parameters", "dln_layers", "dln_macs", "dln_dataset",
    "device", "device_cpu", "device_gpu", "device_accelerator", "device_clock", "device_cores", "device_memory",
    "device_storage", "device_price", "device_camera", "device_os",
    "framework", "optimizations",
    "cloud", "cloud_host", "cloud_response_time", "cloud_monthly_cost", "cloud_shielded", "cloud_security",
    "cloud_cost_plan", "cloud_backup",
    "latency_ms", "accuracy", "accuracy_metric", "energy_uj", "throughput_ips", "memory_mb", "power_mw",
    "model_size_kb", "purpose", "application_area", "year",
    "submitter", "date", "source", "notes",
)
METRIC_FIELDS = ("latency_ms", "accuracy", "energy_uj", "throughput_ips", "memory_mb", "power_mw", "model_size_kb")
_METRIC_PROPERTY = dict(zip(METRIC_FIELDS, (DLOM.inferenceLatencyMs, DLOM.accuracy, DLOM.energyPerInferenceUj, DLOM.throughputIps,
                                            DLOM.memoryMb, DLOM.averagePowerMw, DLOM.modelSizeKB)))
_OPTIMIZATION_ITEM = re.compile(r"^\s*(?P<name>[A-Za-z][\w\- ]*?)\s*(?:\((?P<params>[^()]*)\))?\s*$")


@dataclass
class RawRecord:
    """One record as read: its fields (raw values) and the line it starts on."""

    fields: dict[str, Any]
    line: int


def read_csv_records(text: str, file: str) -> list[RawRecord]:
    """Records of a CSV file with a header row; each row's line is the line it starts on."""
    reader = csv.reader(text.splitlines(keepends=True), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(file, "empty file (expected a header row)", line=1) from None
    except csv.Error as e:
        raise InputError(file, f"malformed CSV: {e}", line=1) from None
    names = [h.strip().lower() for h in header]
    for i, name in enumerate(names):
        if name not in RECORD_FIELDS:
            raise InputError(file, f"unknown column {header[i]!r} (see docs/record-format.md)", line=1, field_name=header[i])
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise InputError(file, f"duplicated column(s): {', '.join(sorted(duplicated))}", line=1)
    records = []
    start = reader.line_num + 1
    try:
        for row in reader:
            line = start
            start = reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(names):
                raise InputError(file, f"row has {len(row)} fields, the header has {len(names)}", line=line)
            records.append(RawRecord(dict(zip(names, row)), line))
    except csv.Error as e:
        raise InputError(file, f"malformed CSV: {e}", line=start) from None
    return records


def read_json_records(text: str, file: str) -> list[RawRecord]:
    """Records of a JSON file: a top-level array of objects, each one record (line = where it starts)."""
    decoder = json.JSONDecoder()

    def line_at(pos: int) -> int:
        return text.count("\n", 0, pos) + 1

    try:
        json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(file, f"malformed JSON: {e.msg}", line=e.lineno) from None
    pos = _skip_ws(text, 0)
    if pos >= len(text) or text[pos] != "[":
        raise InputError(file, "expected a JSON array of record objects", line=line_at(pos))
    pos = _skip_ws(text, pos + 1)
    records = []
    while pos < len(text) and text[pos] != "]":
        value, end = decoder.raw_decode(text, pos)
        if not isinstance(value, dict):
            raise InputError(file, f"record {len(records) + 1} is a {type(value).__name__}, expected an object",
                             line=line_at(pos))
        for key in value:
            if key.lower() not in RECORD_FIELDS:
                raise InputError(file, f"unknown field {key!r} (see docs/record-format.md)", line=line_at(pos), field_name=key)
        records.append(RawRecord({k.lower(): v for k, v in value.items()}, line_at(pos)))
        pos = _skip_ws(text, end)
        if pos < len(text) and text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
    return records


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


@dataclass
class OptimizationSpec:
    technique: str
    parameters: dict[str, Any]


def parse_optimizations(reader: FieldReader, raw: Any) -> list[OptimizationSpec]:
    """``quantization(bits=8, scheme=static); pruning(sparsity=0.5)`` or, in JSON, a list of objects
    ``{"technique": "quantization", "bits": 8}`` (or of such strings)."""
    name = "optimizations"
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    items: list[Any]
    if isinstance(raw, list):
        items = raw
    elif isinstance(raw, str):
        items = [part for part in raw.split(";") if part.strip()]
    else:
        raise reader.fail(name, "expected 'technique(param=value, ...); ...' or a list")
    specs = []
    for item in items:
        if isinstance(item, dict):
            params = {str(k).lower(): v for k, v in item.items()}
            technique = params.pop("technique", None)
            if not isinstance(technique, str):
                raise reader.fail(name, f"{item!r} has no 'technique'")
        elif isinstance(item, str):
            m = _OPTIMIZATION_ITEM.match(item)
            if not m:
                raise reader.fail(name, f"{item.strip()!r} is not 'technique(param=value, ...)'")
            technique = m.group("name")
            params = {}
            for pair in (m.group("params") or "").split(","):
                if not pair.strip():
                    continue
                if "=" not in pair:
                    raise reader.fail(name, f"parameter {pair.strip()!r} of {technique} is not 'name=value'")
                k, v = pair.split("=", 1)
                params[k.strip().lower()] = v.strip()
        else:
            raise reader.fail(name, f"{item!r} is not a technique")
        key = technique.strip().lower().replace(" ", "_")
        key = TECHNIQUE_ALIASES.get(key, key)
        if key not in TECHNIQUES:
            raise reader.fail(name, f"unknown technique {technique!r} (known: {', '.join(TECHNIQUES)})")
        allowed = TECHNIQUES[key][1] | COMMON_TECHNIQUE_PARAMETERS
        for k in params:
            if k not in allowed:
                raise reader.fail(name, f"unknown parameter {k!r} for {key} (known: {', '.join(allowed)})")
        specs.append(OptimizationSpec(key, params))
    return specs


def technique_value(reader: FieldReader, field_name: str, kind: str, raw: Any) -> Any:
    """A technique parameter checked by its kind (the same ranges the SHACL shapes demand)."""
    if kind == "bits":
        return reader.number(field_name, raw, minimum=1, maximum=64, integer=True)
    if kind == "int":
        return reader.number(field_name, raw, minimum=1, integer=True)
    if kind == "fraction":
        return reader.number(field_name, raw, minimum=0, maximum=1)
    if kind == "ratio":
        return reader.number(field_name, raw, minimum=0, maximum=1, exclusive_minimum=True)
    if kind == "positive":
        return reader.number(field_name, raw, minimum=0, exclusive_minimum=True)
    return reader.text(field_name, raw)


class RecordBuilder:
    """Turns checked record fields into DLOM triples, reusing existing entities."""

    def __init__(self, store: Store, file: str) -> None:
        self.file = file
        self.resolver = EntityResolver(store)
        self.batch = TripleBuilder()
        self.created: set[str] = set()

    def reference(self, reader: FieldReader, name: str, ref: str, cls: NamedNode, kind: str,
                  *id_parts: str) -> tuple[NamedNode, bool]:
        """Resolve a reference; a new entity is typed and labelled here (once per import)."""
        node, new = self.resolver.resolve(reader, name, ref, cls, entity(kind, *(id_parts or (ref,))), self.created)
        if new and node.value not in self.created:
            self.created.add(node.value)
            if cls == DLOM.Framework:
                add_framework(self.batch, node, ref, reader.line, name)
            else:
                self.batch.add(node, RDF.type, cls, reader.line, name)
                self.batch.add(node, RDFS.label, Literal(ref), reader.line, name)
            self.batch.count(kind)
        return node, new

    def add_record(self, raw: RawRecord) -> None:
        """Check one record and add its triples to the batch, in field order (so the first bad field is
        the one reported): the identity fields, the metrics, then the model and what it links to."""
        r, f = FieldReader(self.file, raw.line), raw.fields
        label, dln_ref, device_ref, submitter_name, date = self._identity(r, f)
        # Metrics first: a record without a single measurement is not a measured configuration.
        metrics = self._metrics(r, f)

        model = entity("model", "submitted", submitter_name, label)
        self.batch.add(model, RDF.type, DLOM.Model, r.line, "model")
        self.batch.add(model, RDFS.label, Literal(label), r.line, "model")
        self.batch.count("models")
        self._add_dln(r, f, model, dln_ref)
        self._add_device(r, f, model, device_ref)
        framework_ref = r.text("framework", f.get("framework"))
        if framework_ref:
            framework, _ = self.reference(r, "framework", framework_ref, DLOM.Framework, "framework")
            self.batch.add(model, DLOM.usesFramework, framework, r.line, "framework")
        for index, spec in enumerate(parse_optimizations(r, f.get("optimizations"))):
            self._add_optimization(r, model, submitter_name, label, index, spec)
        self._add_cloud(r, f, model)
        self.batch.add(model, DLOM.purpose, r.text("purpose", f.get("purpose")), r.line, "purpose")
        self.batch.add(model, DLOM.applicationArea, r.text("application_area", f.get("application_area")), r.line, "application_area")
        self.batch.add(model, DLOM.yearCreated, r.number("year", f.get("year"), minimum=1950, maximum=2100, integer=True), r.line, "year")
        self._add_performance(r, f, model, label, submitter_name, date, metrics)

    @staticmethod
    def _identity(r: FieldReader, f: Mapping[str, Any]) -> tuple[str, str, str, str, dt.date]:
        """The required fields: model label, DLN, device, submitter and date."""
        label = r.text("model", f.get("model"))
        dln_ref = r.text("dln", f.get("dln"))
        device_ref = r.text("device", f.get("device"))
        submitter_name = r.text("submitter", f.get("submitter"))
        date = r.date("date", f.get("date"))
        for name, value in (("model", label), ("dln", dln_ref), ("device", device_ref),
                            ("submitter", submitter_name), ("date", date)):
            if value is None:
                raise r.fail(name, "required field is missing or empty")
        assert label and dln_ref and device_ref and submitter_name and date
        return label, dln_ref, device_ref, submitter_name, date

    @staticmethod
    def _metrics(r: FieldReader, f: Mapping[str, Any]) -> dict[str, Any]:
        """Each metric field (:data:`METRIC_FIELDS`) → its checked value (None: not given); at least one
        must be given."""
        metrics = {
            "latency_ms": r.quantity("latency_ms", f.get("latency_ms"), "time", "ms", minimum=0, exclusive_minimum=True),
            "accuracy": r.number("accuracy", f.get("accuracy"), minimum=0, maximum=1),
            "energy_uj": r.quantity("energy_uj", f.get("energy_uj"), "energy", "uJ", minimum=0, exclusive_minimum=True),
            "throughput_ips": r.number("throughput_ips", f.get("throughput_ips"), minimum=0, exclusive_minimum=True),
            "memory_mb": r.quantity("memory_mb", f.get("memory_mb"), "memory", "MB", minimum=0, scale=Decimal(1024)),
            "power_mw": r.quantity("power_mw", f.get("power_mw"), "power", "mW", minimum=0, exclusive_minimum=True),
            "model_size_kb": r.quantity("model_size_kb", f.get("model_size_kb"), "memory", "KB", minimum=0, exclusive_minimum=True),
        }
        if all(v is None for v in metrics.values()):
            raise r.fail(None, f"a record needs at least one metric ({', '.join(METRIC_FIELDS)})")
        return metrics

    def _add_dln(self, r: FieldReader, f: Mapping[str, Any], model: NamedNode, ref: str) -> None:
        b, line = self.batch, r.line
        dln, _ = self.reference(r, "dln", ref, DLOM.DLN, "dln")
        b.add(model, DLOM.usesDLN, dln, line, "dln")
        b.add(dln, DLOM.task, r.text("dln_task", f.get("dln_task")), line, "dln_task")
        b.add(dln, DLOM.numberOfParameters, r.number("dln_parameters", f.get("dln_parameters"), minimum=1, integer=True), line, "dln_parameters")
        b.add(dln, DLOM.numberOfLayers, r.number("dln_layers", f.get("dln_layers"), minimum=1, integer=True), line, "dln_layers")
        b.add(dln, DLOM.macs, r.number("dln_macs", f.get("dln_macs"), minimum=0, integer=True), line, "dln_macs")
        b.add(dln, DLOM.trainingDataset, r.text("dln_dataset", f.get("dln_dataset")), line, "dln_dataset")

    def _add_device(self, r: FieldReader, f: Mapping[str, Any], model: NamedNode, ref: str) -> None:
        b, line = self.batch, r.line
        device, _ = self.reference(r, "device", ref, DLOM.EndDevice, "device")
        b.add(model, DLOM.deployedOn, device, line, "device")
        b.add(device, DLOM.processor, r.text("device_cpu", f.get("device_cpu")), line, "device_cpu")
        b.add(device, DLOM.gpu, r.text("device_gpu", f.get("device_gpu")), line, "device_gpu")
        b.add(device, DLOM.accelerator, r.text("device_accelerator", f.get("device_accelerator")), line, "device_accelerator")
        b.add(device, DLOM.operatingSystem, r.text("device_os", f.get("device_os")), line, "device_os")
        b.add(device, DLOM.clockFrequencyMHz, r.quantity("device_clock", f.get("device_clock"), "frequency", "MHz", minimum=0, exclusive_minimum=True), line, "device_clock")
        b.add(device, DLOM.cpuCores, r.number("device_cores", f.get("device_cores"), minimum=1, integer=True), line, "device_cores")
        b.add(device, DLOM.memoryKB, r.quantity("device_memory", f.get("device_memory"), "memory", None, minimum=0, exclusive_minimum=True), line, "device_memory")
        b.add(device, DLOM.storageKB, r.quantity("device_storage", f.get("device_storage"), "memory", None, minimum=0, exclusive_minimum=True), line, "device_storage")
        b.add(device, DLOM.priceUsd, r.quantity("device_price", f.get("device_price"), "price", "USD", minimum=0), line, "device_price")
        b.add(device, DLOM.cameraMegapixels, r.quantity("device_camera", f.get("device_camera"), "resolution", "MP", minimum=0), line, "device_camera")

    def _add_cloud(self, r: FieldReader, f: Mapping[str, Any], model: NamedNode) -> None:
        b, line = self.batch, r.line
        cloud_label = r.text("cloud", f.get("cloud"))
        cloud_fields = [k for k in RECORD_FIELDS if k.startswith("cloud_") and r.text(k, _textual(f.get(k))) is not None]
        if cloud_fields and not cloud_label:
            raise r.fail("cloud", f"{cloud_fields[0]} is given but the cloud configuration has no label ('cloud')")
        if not cloud_label:
            return
        cloud, _ = self.reference(r, "cloud", cloud_label, DLOM.CloudConfiguration, "cloud")
        b.add(model, DLOM.usesCloudConfiguration, cloud, line, "cloud")
        b.add(cloud, DLOM.hostAddress, r.text("cloud_host", f.get("cloud_host")), line, "cloud_host")
        b.add(cloud, DLOM.responseTimeMs, r.quantity("cloud_response_time", f.get("cloud_response_time"), "time", "ms", minimum=0), line, "cloud_response_time")
        b.add(cloud, DLOM.monthlyCostUsd, r.quantity("cloud_monthly_cost", f.get("cloud_monthly_cost"), "price", "USD", minimum=0), line, "cloud_monthly_cost")
        b.add(cloud, DLOM.shieldedExecution, r.boolean("cloud_shielded", f.get("cloud_shielded")), line, "cloud_shielded")
        b.add(cloud, DLOM.securityProtocol, r.text("cloud_security", f.get("cloud_security")), line, "cloud_security")
        b.add(cloud, DLOM.costPlan, r.text("cloud_cost_plan", f.get("cloud_cost_plan")), line, "cloud_cost_plan")
        b.add(cloud, DLOM.backupAddress, r.text("cloud_backup", f.get("cloud_backup")), line, "cloud_backup")

    def _add_performance(self, r: FieldReader, f: Mapping[str, Any], model: NamedNode, label: str, submitter_name: str,
                         date: dt.date, metrics: Mapping[str, Any]) -> None:
        """Provenance — who submitted, when, from what — and the measured performance that submission
        generated."""
        b, line = self.batch, r.line
        submitter, _ = self.reference(r, "submitter", submitter_name, DLOM.Submitter, "submitter")
        run = entity("run", "submission", submitter_name, date.isoformat())
        if run.value not in self.created:
            self.created.add(run.value)
            b.add(run, RDF.type, DLOM.BenchmarkRun, line, "date")
            b.add(run, RDFS.label, Literal(f"submission by {submitter_name} on {date.isoformat()}"), line, "date")
            b.add(run, PROV.wasAssociatedWith, submitter, line, "submitter")
            b.add(run, DCTERMS.date, literal(date), line, "date")
        source = r.text("source", f.get("source"))
        notes = r.text("notes", f.get("notes"))

        perf = entity("performance", "submitted", submitter_name, label, date.isoformat())
        b.add(model, DLOM.hasPerformance, perf, line, "model")
        b.add(perf, RDF.type, DLOM.MeasuredPerformance, line, "model")
        b.add(perf, RDFS.label, Literal(f"{label} measured by {submitter_name} on {date.isoformat()}"), line, "model")
        b.add(perf, PROV.wasGeneratedBy, run, line, "date")
        b.add(perf, PROV.wasAttributedTo, submitter, line, "submitter")
        for name, value in metrics.items():
            b.add(perf, _METRIC_PROPERTY[name], value, line, name)
        b.add(perf, DLOM.accuracyMetric, r.text("accuracy_metric", f.get("accuracy_metric")), line, "accuracy_metric")
        b.add(perf, DCTERMS.source, source, line, "source")
        b.add(perf, RDFS.comment, notes, line, "notes")
        b.count("performance records")

    def _add_optimization(self, r: FieldReader, model: NamedNode, submitter: str, label: str, index: int,
                          spec: OptimizationSpec) -> None:
        b, line = self.batch, r.line
        cls, allowed = TECHNIQUES[spec.technique]
        allowed = allowed | COMMON_TECHNIQUE_PARAMETERS
        node = entity("optimization", "submitted", submitter, label, str(index))
        b.add(model, DLOM.appliesOptimization, node, line, "optimizations")
        b.add(node, RDF.type, cls, line, "optimizations")
        shown = ", ".join(f"{k}={v}" for k, v in spec.parameters.items())
        b.add(node, RDFS.label, Literal(spec.technique.replace("_", " ") + (f" ({shown})" if shown else "")), line, "optimizations")
        b.add(node, DLOM.sequenceIndex, literal(index), line, "optimizations")
        checked: dict[str, Any] = {}
        for k, raw in spec.parameters.items():
            prop, kind = allowed[k]
            field_name = f"optimizations.{spec.technique}.{k}"
            if kind == "dln":
                ref = r.text(field_name, raw)
                if ref:
                    teacher, _ = self.reference(r, field_name, ref, DLOM.DLN, "dln")
                    b.add(node, prop, teacher, line, "optimizations")
                    checked[k] = ref
                continue
            value = technique_value(r, field_name, kind, raw)
            b.add(node, prop, value, line, "optimizations")
            if value is not None:
                checked[k] = value if not isinstance(value, Decimal) else float(value)
        if checked:
            b.add(node, DLOM.parameters, literal(checked), line, "optimizations")
        b.count("optimization techniques")


def _textual(v: Any) -> Any:
    return v if not isinstance(v, bool) else str(v)


def read_records(path: Path, text: str) -> list[RawRecord]:
    """The raw records of a ``.csv`` or ``.json`` file."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return read_csv_records(text, str(path))
    if suffix == ".json":
        return read_json_records(text, str(path))
    raise InputError(str(path), f"unknown record file type {path.suffix!r} (expected .csv or .json)")


def record_files(path: Path) -> list[Path]:
    """The file itself, or the .csv/.json files of a directory (sorted)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".csv", ".json") and p.is_file())
        if not files:
            raise InputError(str(path), "directory holds no .csv or .json record files")
        return files
    return [path]


@register_importer("records")
def import_records(store: Store, path: Path, progress: Progress = NoProgress()) -> ImportReport:
    """Import measured configurations from a records CSV/JSON file (or a directory of them).

    Every record of every file is read and checked first; then everything is written in one
    validated transaction. Raises :class:`InputError` (file, line, field, reason) and writes nothing
    on any bad record.
    """
    files = record_files(Path(path))
    builder = RecordBuilder(store, str(path))
    parsed: list[tuple[Path, list[RawRecord]]] = []
    for file in files:
        text = decode_utf8(read_bytes(file), str(file))
        parsed.append((file, read_records(file, text)))
    progress.start(sum(len(records) for _, records in parsed), f"checking {path}")
    for file, records in parsed:
        builder.file = builder.batch.file = str(file)
        if not records:
            raise InputError(str(file), "no records")
        for record in records:
            builder.add_record(record)
            progress.advance()
    written = write_new_triples(store, builder.batch, str(path) if len(files) > 1 else str(files[0]))
    return ImportReport(source=str(path), triples=written, counts=dict(builder.batch.counts))


__all__ = [
    "EntityResolver", "FieldReader", "RecordBuilder", "content_digest", "decode_utf8",
    "import_records", "read_bytes", "triples_in_store", "write_new_triples",
]
