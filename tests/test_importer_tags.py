"""The ``tags`` importer: the paper's tag records (§5.3) for the six classes of Table 3."""
from __future__ import annotations

from pathlib import Path

import pytest
from pyoxigraph import NamedNode

from kg.errors import InputError
from kg.importers.tag_records import import_tag_records
from kg.namespaces import DLOM, RDFS, entity

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# The DLOM paper's example record (§5.3), with its spacing; the PDF's line-break hyphenation of
# <DLFramework> ("<DLF-" / "ramework>") is a text-extraction artefact, not part of the format.
PAPER_EXAMPLE = """<End_devices_Specs> <Name>Raspberry pi 3</Name> <price>70</price> <DLFramework> MobileNet V3</DLFramework> <Memory>8 GB</Memory> <Camera>16
MP </Camera><CPU> </CPU> </End_devices_Specs>
"""


def _values(store, subject: NamedNode, prop: NamedNode) -> list:
    result = store.select("SELECT ?o WHERE { ?s ?p ?o }", substitutions={"s": subject, "p": prop})
    return [row[0] for row in result.rows]


def _write(tmp_path: Path, text: str, name: str = "records.xml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_paper_example_verbatim(store, tmp_path: Path) -> None:
    report = import_tag_records(store, _write(tmp_path, PAPER_EXAMPLE))
    device = entity("device", "Raspberry pi 3")
    assert report.triples > 0
    assert _values(store, device, RDFS.label)[0].value == "Raspberry pi 3"
    assert _values(store, device, DLOM.priceUsd)[0].value == "70"
    assert _values(store, device, DLOM.memoryKB)[0].value == str(8 * 1024 * 1024)
    assert _values(store, device, DLOM.cameraMegapixels)[0].value == "16"
    assert _values(store, device, DLOM.processor) == []  # the empty <CPU> </CPU> is ignored
    (framework,) = _values(store, device, DLOM.usesFramework)
    assert _values(store, framework, RDFS.label)[0].value == "MobileNet V3"


def test_sequence_of_records_without_a_wrapper(store, tmp_path: Path) -> None:
    text = PAPER_EXAMPLE + "<End_devices_Specs><Name>Pico</Name><Memory>264 KB</Memory><price>$4</price></End_devices_Specs>\n"
    report = import_tag_records(store, _write(tmp_path, text))
    assert report.counts["device"] == 2
    assert _values(store, entity("device", "Pico"), DLOM.memoryKB)[0].value == "264"


def test_all_six_classes_example_file_and_reimport(store) -> None:
    report = import_tag_records(store, EXAMPLES / "device.tags.xml")
    for kind in ("device", "dln", "optimization", "cloud", "model", "performance"):
        assert report.counts.get(kind), kind
    model = entity("model", "ResNet-50 int8 on Raspberry pi 3")
    assert _values(store, model, DLOM.usesDLN) == [entity("dln", "ResNet-50")]
    assert _values(store, model, DLOM.deployedOn) == [entity("device", "Raspberry pi 3")]
    assert len(_values(store, model, DLOM.appliesOptimization)) == 2
    (perf,) = _values(store, model, DLOM.hasPerformance)
    assert _values(store, perf, DLOM.inferenceLatencyMs)[0].value == "900"  # 0.9 s
    assert _values(store, perf, DLOM.accuracy)[0].value == "0.742"  # 74.2 %
    assert _values(store, perf, DLOM.averagePowerMw)[0].value == "3500"  # 3.5 W
    before = store.count()
    assert import_tag_records(store, EXAMPLES / "device.tags.xml").triples == 0
    assert store.count() == before


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("<Model>\n<Name>x</Name>\n<DLN>a</DLN\n</Model>", 4, None, "malformed XML"),
        ("<Main_DLN>\n<Name>x</Name>\n<Colour>red</Colour>\n</Main_DLN>", 3, "Colour", "unknown tag <Colour>"),
        ("<End_devices_Specs>\n<Name>x</Name>\n<Memory>8 parsecs</Memory>\n</End_devices_Specs>", 3, "Memory", "unknown memory unit 'parsecs'"),
        ("<End_devices_Specs>\n<Name>x</Name>\n<Memory>8</Memory>\n</End_devices_Specs>", 3, "Memory", "has no unit"),
        ("<Wrapper>\n<Gizmo>1</Gizmo>\n</Wrapper>", 2, "Gizmo", "unknown record element <Gizmo>"),
        ("<Model>\n<Name>m</Name>\n<Device>d</Device>\n</Model>", 1, "DLN", "needs a <DLN> tag"),
        ("<Performance>\n<Model>nowhere</Model>\n<Latency>3 ms</Latency>\n</Performance>", 2, "Model", "no Model record named 'nowhere'"),
        ("<Model><Name>m</Name><DLN>n</DLN><Device>d</Device></Model>\n<Performance>\n<Model>m</Model>\n<Accuracy>1.7</Accuracy>\n</Performance>",
         4, "Accuracy", "1.7 is not in [0, 1]"),
        ("<Optimization>\n<Name>o</Name>\n<Technique>Pruning</Technique>\n<Bits>8</Bits>\n</Optimization>", 4, "Bits", "not a parameter of pruning"),
        ("<!DOCTYPE x [<!ENTITY a 'b'>]>\n<Model/>", 1, None, "DOCTYPE"),
    ],
)
def test_bad_input_names_file_line_and_tag_and_writes_nothing(store, tmp_path: Path, text: str, line: int,
                                                              field: str | None, message: str) -> None:
    p = _write(tmp_path, text)
    before = store.count()
    with pytest.raises(InputError) as e:
        import_tag_records(store, p)
    assert message in str(e.value) and str(p) in str(e.value)
    assert e.value.line == line
    if field:
        assert e.value.field_name == field
    assert store.count() == before


def test_error_in_a_later_record_leaves_the_store_unchanged(store, tmp_path: Path) -> None:
    text = PAPER_EXAMPLE + "<Main_DLN><Name>ok</Name><No_of_layers>0</No_of_layers></Main_DLN>"
    before = store.count()
    with pytest.raises(InputError, match=r"\[No_of_layers\]: 0 must be ≥ 1"):
        import_tag_records(store, _write(tmp_path, text))
    assert store.count() == before


def test_missing_file(store, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        import_tag_records(store, tmp_path / "none.xml")


def test_records_refer_to_store_entities_by_label(store, tmp_path: Path) -> None:
    import_tag_records(store, _write(tmp_path, PAPER_EXAMPLE, "a.xml"))
    text = ("<r><Main_DLN><Name>TinyNet</Name></Main_DLN>"
            "<Model><Name>tiny on pi</Name><DLN>TinyNet</DLN><Device>Raspberry pi 3</Device></Model>"
            "<Performance><Model>tiny on pi</Model><Latency>12 ms</Latency></Performance></r>")
    import_tag_records(store, _write(tmp_path, text, "b.xml"))
    model = entity("model", "tiny on pi")
    assert _values(store, model, DLOM.deployedOn) == [entity("device", "Raspberry pi 3")]
    # A later file may add performance to a model already in the store.
    more = "<Performance><Model>tiny on pi</Model><Latency>11 ms</Latency></Performance>"
    import_tag_records(store, _write(tmp_path, more, "c.xml"))
    assert len(_values(store, model, DLOM.hasPerformance)) == 2
