"""``dlom import tags``: the DLOM paper's tag records (§5.3), generalized to the six classes of Table 3.

The paper's example, accepted verbatim::

    <End_devices_Specs> <Name>Raspberry pi 3</Name> <price>70</price> <DLFramework> MobileNet V3</DLFramework>
    <Memory>8 GB</Memory> <Camera>16 MP </Camera><CPU> </CPU> </End_devices_Specs>

A file holds one or more records of the classes ``Model``, ``Main_DLN``, ``Optimization``,
``Cloud_Configuration``, ``Performance`` and ``End_devices_Specs``, as a plain sequence or inside any
wrapper element. Tag names are matched without regard to case, ``_``, ``-`` and spaces; the accepted
tags of each class are documented in docs/record-format.md (tables below are the source of truth).
Records refer to each other by ``Name`` (in the file, else an entity with that exact label in the store).

Decisions: an unknown tag is an error naming the tag and its line (a silently dropped misspelled
``<Memroy>`` would lose data); an empty tag (``<CPU> </CPU>``) is ignored; a quantity with an unknown
unit is an error naming the tag; a DOCTYPE is refused (no entity expansion from untrusted files).
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import xml.parsers.expat
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode

from kg.errors import InputError
from kg.importers import ImportReport, register_importer
from kg.importers.records import (
    COMMON_TECHNIQUE_PARAMETERS, DCTERMS, TECHNIQUE_ALIASES, TECHNIQUES, EntityResolver, FieldReader,
    content_digest, decode_utf8, read_bytes, technique_value, write_new_triples,
)
from kg.namespaces import DLOM, PROV, RDF, RDFS, entity
from kg.progress import NoProgress, Progress
from kg.store import Store
from kg.terms import literal
from kg.writes import TripleBuilder


def normalized(tag: str) -> str:
    """The comparison key of a tag name: lower case without ``_``, ``-``, ``.`` and spaces."""
    return re.sub(r"[\s_\-.]", "", tag).lower()


@dataclass(frozen=True)
class TagField:
    """How one tag of a record class becomes a triple.

    ``kind``: ``text``, ``json``, ``bool``, ``int`` (with ``minimum``/``maximum``), ``number``,
    ``fraction`` (0–1, ``%`` accepted), ``quantity`` (``dimension`` and ``default_unit``, divided by
    ``scale``), ``technique`` or ``ref`` (a reference by Name to an entity of ``ref_class``).
    """

    prop: NamedNode | None
    kind: str = "text"
    dimension: str | None = None
    default_unit: str | None = None
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None
    exclusive_minimum: bool = False
    scale: Decimal = Decimal(1)
    ref_class: str | None = None
    repeatable: bool = False


@dataclass(frozen=True)
class RecordClass:
    """One record class of Table 3: its element names, its class IRI, its entity kind, its tags."""

    key: str
    elements: tuple[str, ...]
    cls: NamedNode
    kind: str
    fields: dict[str, TagField]


def _aliases(table: dict[tuple[str, ...], TagField]) -> dict[str, TagField]:
    return {normalized(name): spec for names, spec in table.items() for name in names}


_MS = dict(kind="quantity", dimension="time", default_unit="ms", minimum=0)
_USD = dict(kind="quantity", dimension="price", default_unit="USD", minimum=0)

RECORD_CLASSES: tuple[RecordClass, ...] = (
    RecordClass("device", ("End_devices_Specs", "End_device_Specs", "End_Devices", "End_Device", "Device"),
                DLOM.EndDevice, "device", _aliases({
        ("Name",): TagField(RDFS.label),
        ("CPU", "Processor"): TagField(DLOM.processor),
        ("GPU",): TagField(DLOM.gpu),
        ("Accelerator",): TagField(DLOM.accelerator),
        ("SoC",): TagField(DLOM.soc),
        ("Board",): TagField(DLOM.board),
        ("Vendor",): TagField(DLOM.vendor),
        ("OS", "Operating_System"): TagField(DLOM.operatingSystem),
        ("Clock", "Clock_Frequency", "CPU_Clock"): TagField(DLOM.clockFrequencyMHz, "quantity", "frequency", "MHz", 0, exclusive_minimum=True),
        ("Cores", "CPU_Cores"): TagField(DLOM.cpuCores, "int", minimum=1),
        ("Memory", "RAM"): TagField(DLOM.memoryKB, "quantity", "memory", None, 0, exclusive_minimum=True),
        ("Storage", "Flash"): TagField(DLOM.storageKB, "quantity", "memory", None, 0, exclusive_minimum=True),
        ("Camera",): TagField(DLOM.cameraMegapixels, "quantity", "resolution", "MP", 0),
        ("Price",): TagField(DLOM.priceUsd, **_USD),
        ("DLFramework", "DL_Mobile_Framework", "Framework"): TagField(DLOM.usesFramework, "ref", ref_class="framework", repeatable=True),
    })),
    RecordClass("dln", ("Main_DLN", "DLN"), DLOM.DLN, "dln", _aliases({
        ("Name",): TagField(RDFS.label),
        ("Training_Dataset", "Dataset"): TagField(DLOM.trainingDataset),
        ("Hyper_Parameters", "Hyperparameters"): TagField(DLOM.hyperParameters, "json"),
        ("Activation", "Activation_Function"): TagField(DLOM.activationFunction),
        ("Loss", "Loss_Function"): TagField(DLOM.lossFunction),
        ("Layers", "No_of_layers", "Number_of_Layers"): TagField(DLOM.numberOfLayers, "int", minimum=1),
        ("Inputs", "No_of_inputs", "Number_of_Inputs", "Input_Size"): TagField(DLOM.numberOfInputs, "int", minimum=1),
        ("Outputs", "No_of_outputs", "Number_of_Outputs", "Output_Size"): TagField(DLOM.numberOfOutputs, "int", minimum=1),
        ("Parameters", "Weights", "Number_of_Parameters"): TagField(DLOM.numberOfParameters, "int", minimum=1),
        ("MACs",): TagField(DLOM.macs, "int", minimum=0),
        ("Task",): TagField(DLOM.task),
        ("Family", "Architecture_Family"): TagField(DLOM.architectureFamily),
    })),
    RecordClass("optimization", ("Optimization", "Optimisation"), DLOM.OptimizationTechnique, "optimization", _aliases({
        ("Name",): TagField(RDFS.label),
        ("Technique", "Type", "Algorithm"): TagField(None, "technique"),
        ("Sequence_Index", "Order"): TagField(DLOM.sequenceIndex, "int", minimum=0),
        ("Bits", "Bit_Width"): TagField(DLOM.bitWidth, "param:bits"),
        ("Scheme", "Quantization_Scheme"): TagField(DLOM.quantizationScheme, "param:scheme"),
        ("Sparsity",): TagField(DLOM.sparsity, "param:sparsity"),
        ("Granularity", "Pruning_Granularity"): TagField(DLOM.pruningGranularity, "param:granularity"),
        ("Temperature",): TagField(DLOM.temperature, "param:temperature"),
        ("Teacher", "Teacher_DLN"): TagField(DLOM.teacherDLN, "param:teacher"),
        ("Rank",): TagField(DLOM.rank, "param:rank"),
        ("Rank_Ratio",): TagField(DLOM.rankRatio, "param:rank_ratio"),
        ("Epochs",): TagField(DLOM.epochs, "param:epochs"),
        ("Learning_Rate",): TagField(DLOM.learningRate, "param:learning_rate"),
        ("Tool",): TagField(DLOM.toolName, "param:tool"),
    })),
    RecordClass("cloud", ("Cloud_Configuration", "Cloud_Conf", "Cloud_Config", "Cloud"), DLOM.CloudConfiguration, "cloud", _aliases({
        ("Name",): TagField(RDFS.label),
        ("Host_Address", "Host"): TagField(DLOM.hostAddress),
        ("Backup_Address", "Backup"): TagField(DLOM.backupAddress),
        ("Response_Time",): TagField(DLOM.responseTimeMs, **_MS),
        ("Shielded_Execution", "Shielded"): TagField(DLOM.shieldedExecution, "bool"),
        ("Security_Protocols", "Security_Protocol"): TagField(DLOM.securityProtocol, repeatable=True),
        ("Cost_Plan",): TagField(DLOM.costPlan),
        ("Monthly_Cost",): TagField(DLOM.monthlyCostUsd, **_USD),
        ("Server_Hardware",): TagField(DLOM.serverHardware),
    })),
    RecordClass("model", ("Model",), DLOM.Model, "model", _aliases({
        ("Name",): TagField(RDFS.label),
        ("DLN", "Main_DLN"): TagField(DLOM.usesDLN, "ref", ref_class="dln"),
        ("Device", "End_Device"): TagField(DLOM.deployedOn, "ref", ref_class="device", repeatable=True),
        ("Optimization", "Optimisation"): TagField(DLOM.appliesOptimization, "ref", ref_class="optimization", repeatable=True),
        ("Cloud_Configuration", "Cloud"): TagField(DLOM.usesCloudConfiguration, "ref", ref_class="cloud", repeatable=True),
        ("Framework", "DLFramework"): TagField(DLOM.usesFramework, "ref", ref_class="framework", repeatable=True),
        ("Year_Created", "Year", "Date_Created"): TagField(DLOM.yearCreated, "int", minimum=1950, maximum=2100),
        ("Purpose", "Business_Focus"): TagField(DLOM.purpose),
        ("Application_Area",): TagField(DLOM.applicationArea),
        ("Field",): TagField(DLOM.field),
        ("Total_Cost",): TagField(DLOM.totalCostUsd, **_USD),
        ("Cost_per_Device",): TagField(DLOM.costPerDeviceUsd, **_USD),
        ("No_IoT_devices", "Number_of_IoT_Devices", "IoT_Devices"): TagField(DLOM.numberOfIoTDevices, "int", minimum=1),
    })),
    RecordClass("performance", ("Performance", "Performance_Measures"), DLOM.MeasuredPerformance, "performance", _aliases({
        ("Model",): TagField(DLOM.hasPerformance, "ref", ref_class="model"),
        ("Inference_Latency", "Latency"): TagField(DLOM.inferenceLatencyMs, **(_MS | {"exclusive_minimum": True})),
        ("System_Latency",): TagField(DLOM.systemLatencyMs, **(_MS | {"exclusive_minimum": True})),
        ("Accuracy",): TagField(DLOM.accuracy, "fraction"),
        ("Accuracy_Metric", "Metric"): TagField(DLOM.accuracyMetric),
        ("Stability",): TagField(DLOM.stability, "number", minimum=0),
        ("Average_Power", "Power", "Average_Power_Consumption"): TagField(DLOM.averagePowerMw, "quantity", "power", None, 0, exclusive_minimum=True),
        ("Energy", "Energy_per_Inference"): TagField(DLOM.energyPerInferenceUj, "quantity", "energy", "uJ", 0, exclusive_minimum=True),
        ("Throughput",): TagField(DLOM.throughputIps, "number", minimum=0, exclusive_minimum=True),
        ("Memory",): TagField(DLOM.memoryMb, "quantity", "memory", "MB", 0, scale=Decimal(1024)),
        ("Model_Size",): TagField(DLOM.modelSizeKB, "quantity", "memory", "KB", 0, exclusive_minimum=True),
        ("Date",): TagField(DCTERMS.date, "date"),
        ("Source",): TagField(DCTERMS.source),
        ("Notes",): TagField(RDFS.comment),
    })),
)
_BY_ELEMENT = {normalized(name): rc for rc in RECORD_CLASSES for name in rc.elements}
_BY_KEY = {rc.key: rc for rc in RECORD_CLASSES}
_FRAMEWORK = RecordClass("framework", (), DLOM.Framework, "framework", {})
_ROOT = "dlom-tag-records"


@dataclass
class TagRecord:
    """One record element: its class, the line it starts on, and its tags (name as written, text, line)."""

    rc: RecordClass
    line: int
    element: str
    tags: list[tuple[str, str, int]] = field(default_factory=list)
    name: str | None = None
    iri: NamedNode | None = None


def parse_tag_records(text: str, file: str) -> list[TagRecord]:
    """The records of a tag file (a sequence of records, or records inside any wrapper elements)."""
    doctype = re.search(r"<!(DOCTYPE|ENTITY)", text)
    if doctype:
        raise InputError(file, "DOCTYPE/ENTITY declarations are not allowed", line=text.count("\n", 0, doctype.start()) + 1)
    # An XML declaration may only open a document; drop it (keeping its line breaks) so the records can
    # be wrapped in one synthetic root, which is what lets a file be a bare sequence of records.
    body = re.sub(r"^\ufeff?\s*<\?xml[^>]*\?>", lambda m: "\n" * m.group(0).count("\n"), text, count=1)
    # expat directly (not ElementTree's parser) because it tells the line each element starts on.
    builder = ET.TreeBuilder()
    expat = xml.parsers.expat.ParserCreate()
    starts: list[int] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        builder.start(tag, attrs)
        starts.append(expat.CurrentLineNumber)

    expat.StartElementHandler = start
    expat.EndElementHandler = builder.end
    expat.CharacterDataHandler = builder.data
    try:
        expat.Parse(f"<{_ROOT}>{body}</{_ROOT}>", True)
    except xml.parsers.expat.ExpatError as e:
        reason = xml.parsers.expat.ErrorString(e.code)
        raise InputError(file, f"malformed XML: {reason} (column {e.offset + 1})", line=e.lineno) from None
    root = builder.close()
    # Elements come out of root.iter() in document order, the order their start tags were seen.
    line_of = {id(el): starts[i] for i, el in enumerate(root.iter())}

    records: list[TagRecord] = []

    def walk(el: ET.Element) -> None:
        for child in el:
            rc = _BY_ELEMENT.get(normalized(child.tag))
            if rc is not None:
                records.append(_record(child, rc, line_of, file))
            elif len(child):
                walk(child)  # a wrapper element
            else:
                known = ", ".join(rc.elements[0] for rc in RECORD_CLASSES)
                raise InputError(file, f"unknown record element <{child.tag}> (records are {known})",
                                 line=line_of[id(child)], field_name=child.tag)
        if (el.text or "").strip() or any((c.tail or "").strip() for c in el):
            raise InputError(file, "text outside any record", line=line_of[id(el)])

    walk(root)
    if not records:
        raise InputError(file, "no records found")
    return records


def _record(el: ET.Element, rc: RecordClass, line_of: dict[int, int], file: str) -> TagRecord:
    record = TagRecord(rc, line_of[id(el)], el.tag)
    if el.attrib:
        raise InputError(file, f"attributes are not used in tag records ({', '.join(el.attrib)})", line=record.line,
                         field_name=el.tag)
    if (el.text or "").strip() or any((c.tail or "").strip() for c in el):
        raise InputError(file, f"text outside any tag inside <{el.tag}>", line=record.line, field_name=el.tag)
    for child in el:
        line = line_of[id(child)]
        if len(child):
            raise InputError(file, f"<{child.tag}> must hold text, not elements", line=line, field_name=child.tag)
        key = normalized(child.tag)
        if key not in rc.fields:
            raise InputError(file, f"unknown tag <{child.tag}> in a {rc.elements[0]} record (see docs/record-format.md)",
                             line=line, field_name=child.tag)
        record.tags.append((child.tag, (child.text or "").strip(), line))
    return record


class TagImport:
    """Builds the triples of one tag file: resolves names, checks values, adds provenance."""

    def __init__(self, store: Store, file: str, digest: str) -> None:
        self.file = file
        self.digest = digest
        self.resolver = EntityResolver(store)
        self.batch = TripleBuilder(file)
        self.in_file: dict[tuple[str, str], TagRecord] = {}
        self.created: set[str] = set()
        self.run: NamedNode | None = None

    def reader(self, line: int) -> FieldReader:
        return FieldReader(self.file, line)

    def name_records(self, records: list[TagRecord]) -> None:
        """Give every named record its IRI first, so references work in any order."""
        for record in records:
            if record.rc.key == "performance":
                continue
            names = [(t, v, ln) for t, v, ln in record.tags if normalized(t) == "name" and v]
            if not names:
                raise InputError(self.file, f"a {record.element} record needs a <Name>", line=record.line, field_name="Name")
            if len(names) > 1:
                raise InputError(self.file, "<Name> appears more than once", line=names[1][2], field_name=names[1][0])
            record.name = names[0][1]
            key = (record.rc.key, record.name)
            if key in self.in_file:
                raise InputError(self.file, f"a second {record.element} record named {record.name!r} "
                                            f"(first on line {self.in_file[key].line})", line=record.line, field_name="Name")
            self.in_file[key] = record
            if record.rc.key == "optimization":
                # An optimization record is one application of a technique: always its own entity.
                record.iri = self._new_iri(record.rc, record.name)
                continue
            record.iri, _ = self.resolver.resolve(self.reader(names[0][2]), names[0][0], record.name, record.rc.cls,
                                                  self._new_iri(record.rc, record.name))
            self.created.add(record.iri.value)

    def _new_iri(self, rc: RecordClass, name: str) -> NamedNode:
        # Optimizations are applications of a technique, named per file; the rest are shared entities.
        return entity(rc.kind, "tags", self.digest, name) if rc.key == "optimization" else entity(rc.kind, name)

    def reference(self, ref_class: str, name: str, reader: FieldReader, tag: str) -> NamedNode:
        """The entity a reference by name means: a record of the file, else one in the store; a DLN,
        device, cloud configuration or framework named nowhere is created with just its label."""
        record = self.in_file.get((ref_class, name))
        if record is not None and record.iri is not None:
            return record.iri
        rc = _BY_KEY.get(ref_class, _FRAMEWORK)
        if ref_class in ("optimization", "model") and not self.resolver.is_iri(name) and not self.resolver.by_label(name, rc.cls):
            raise reader.fail(tag, f"no {rc.elements[0]} record named {name!r} in the file or the store")
        node, new = self.resolver.resolve(reader, tag, name, rc.cls, entity(rc.kind, name), self.created)
        if new and node.value not in self.created:
            self.created.add(node.value)
            self.batch.add(node, RDF.type, rc.cls, reader.line, tag)
            self.batch.add(node, RDFS.label, Literal(name), reader.line, tag)
            self.batch.count(rc.kind)
        return node

    def add(self, record: TagRecord, index: int) -> None:
        rc, b = record.rc, self.batch
        seen: dict[str, int] = {}
        values: dict[str, Any] = {}
        for tag, text, line in record.tags:
            spec = rc.fields[normalized(tag)]
            if not text:
                continue  # an empty tag says nothing (the paper's <CPU> </CPU>)
            key = normalized(tag)
            if key in seen and not spec.repeatable:
                raise InputError(self.file, f"<{tag}> appears more than once (first on line {seen[key]})", line=line, field_name=tag)
            seen.setdefault(key, line)
            values.setdefault(spec.prop.value if spec.prop else spec.kind, (tag, text, line))

        if rc.key == "performance":
            self._add_performance(record, values, index)
            return
        assert record.iri is not None and record.name is not None
        node = record.iri
        b.add(node, RDF.type, rc.cls, record.line, "Name")
        b.add(node, RDFS.label, Literal(record.name), record.line, "Name")
        b.count(rc.kind)
        technique: str | None = None
        if rc.key == "optimization":
            technique = self._technique(record, values)
            b.add(node, RDF.type, TECHNIQUES[technique][0], record.line, "Technique")
        if rc.key == "model":
            # The shapes demand both; saying so here names the record instead of an IRI.
            for tag, prop in (("DLN", DLOM.usesDLN), ("Device", DLOM.deployedOn)):
                if prop.value not in values:
                    raise InputError(self.file, f"model {record.name!r} needs a <{tag}> tag", line=record.line, field_name=tag)
        for tag, text, line in record.tags:
            spec = rc.fields[normalized(tag)]
            if not text or spec.prop is None or spec.prop == RDFS.label:
                continue
            self._add_value(node, spec, tag, text, line, technique)

    def _technique(self, record: TagRecord, values: dict[str, Any]) -> str:
        given = values.get("technique")
        if given is None:
            raise InputError(self.file, f"optimization {record.name!r} needs a <Technique> tag "
                                        f"({', '.join(TECHNIQUES)})", line=record.line, field_name="Technique")
        tag, text, line = given
        key = text.strip().lower().replace(" ", "_").replace("-", "_")
        key = TECHNIQUE_ALIASES.get(key, key)
        if key not in TECHNIQUES:
            raise InputError(self.file, f"unknown technique {text!r} (known: {', '.join(TECHNIQUES)})", line=line, field_name=tag)
        return key

    def _add_value(self, node: NamedNode, spec: TagField, tag: str, text: str, line: int, technique: str | None) -> None:
        r = self.reader(line)
        assert spec.prop is not None
        if spec.kind == "ref":
            assert spec.ref_class is not None
            self.batch.add(node, spec.prop, self.reference(spec.ref_class, text, r, tag), line, tag)
            return
        if spec.kind.startswith("param:"):
            param = spec.kind.split(":", 1)[1]
            allowed = TECHNIQUES[technique or ""][1] | COMMON_TECHNIQUE_PARAMETERS
            if param not in allowed:
                raise r.fail(tag, f"<{tag}> is not a parameter of {technique} (its parameters: {', '.join(allowed)})")
            kind = allowed[param][1]
            if kind == "dln":
                self.batch.add(node, spec.prop, self.reference("dln", text, r, tag), line, tag)
            else:
                self.batch.add(node, spec.prop, technique_value(r, tag, kind, text), line, tag)
            return
        self.batch.add(node, spec.prop, convert(spec, r, tag, text), line, tag)

    def _add_performance(self, record: TagRecord, values: dict[str, Any], index: int) -> None:
        b = self.batch
        model_ref = values.get(DLOM.hasPerformance.value)
        if model_ref is None:
            raise InputError(self.file, "a Performance record needs a <Model> tag naming its model", line=record.line, field_name="Model")
        tag, model_name, line = model_ref
        model = self.reference("model", model_name, self.reader(line), tag)
        perf = entity("performance", "tags", self.digest, str(index))
        b.add(model, DLOM.hasPerformance, perf, line, tag)
        b.add(perf, RDF.type, DLOM.MeasuredPerformance, record.line, record.element)
        b.add(perf, RDFS.label, Literal(f"performance of {model_name} ({Path(self.file).name}, record {index + 1})"), record.line, record.element)
        b.add(perf, PROV.wasGeneratedBy, self.import_run(), record.line, record.element)
        b.count("performance")
        metrics = 0
        for tag, text, line in record.tags:
            spec = record.rc.fields[normalized(tag)]
            if not text or spec.prop is None or spec.kind == "ref":
                continue
            value = convert(spec, self.reader(line), tag, text)
            b.add(perf, spec.prop, value, line, tag)
            metrics += spec.prop.value.startswith(str(DLOM))
        if not metrics:
            raise InputError(self.file, "a Performance record needs at least one measured value", line=record.line)

    def import_run(self) -> NamedNode:
        """The activity that generated this file's performance records: its import (named by content)."""
        if self.run is None:
            self.run = entity("run", "tags", self.digest)
            source = entity("source", "tags", self.digest)
            b = self.batch
            b.add(self.run, RDF.type, DLOM.BenchmarkRun)
            b.add(self.run, RDFS.label, Literal(f"tag-record import of {Path(self.file).name}"))
            b.add(self.run, PROV.used, source)
            b.add(source, RDF.type, DLOM.SourceFile)
            b.add(source, RDFS.label, Literal(Path(self.file).name))
            b.add(source, DLOM.sourcePath, Literal(Path(self.file).name))
        return self.run


_CONVERTERS: dict[str, Callable[[TagField, FieldReader, str, str], Any]] = {
    "text": lambda s, r, t, x: x,
    "json": lambda s, r, t, x: literal(r.json_text(t, x)),
    "bool": lambda s, r, t, x: r.boolean(t, x),
    "date": lambda s, r, t, x: r.date(t, x),
    "int": lambda s, r, t, x: r.number(t, x, minimum=s.minimum, maximum=s.maximum, integer=True),
    "number": lambda s, r, t, x: r.number(t, x, minimum=s.minimum, maximum=s.maximum, exclusive_minimum=s.exclusive_minimum),
    "quantity": lambda s, r, t, x: r.quantity(t, x, s.dimension or "", s.default_unit, minimum=s.minimum,
                                              maximum=s.maximum, exclusive_minimum=s.exclusive_minimum, scale=s.scale),
}


def convert(spec: TagField, reader: FieldReader, tag: str, text: str) -> Any:
    """The checked value of one tag's text."""
    if spec.kind == "fraction":
        # Accuracy may be written as a fraction (0.93) or a percentage (93 %).
        if text.rstrip().endswith("%"):
            value = reader.number(tag, text.rstrip()[:-1], minimum=0, maximum=100)
            return None if value is None else Decimal(value) / 100
        return reader.number(tag, text, minimum=0, maximum=1)
    return _CONVERTERS[spec.kind](spec, reader, tag, text)


@register_importer("tags")
def import_tag_records(store: Store, path: Path, progress: Progress = NoProgress()) -> ImportReport:
    """Import a tag-record file (``.xml`` or any extension): all records checked first, then one
    validated write. Raises :class:`InputError` naming file, line and tag; writes nothing on error."""
    path = Path(path)
    data = read_bytes(path)
    file = str(path)
    records = parse_tag_records(decode_utf8(data, file), file)
    progress.start(len(records), f"checking {path.name}")
    job = TagImport(store, file, content_digest(data))
    job.name_records(records)
    for index, record in enumerate(records):
        job.add(record, index)
        progress.advance()
    written = write_new_triples(store, job.batch, file)
    return ImportReport(source=file, triples=written, counts=dict(job.batch.counts))
