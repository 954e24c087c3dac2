"""What an inference framework is called: its label without the source references submitters append, and
the framework families (products) a label names, whatever the submitter's spelling.

Submitters spell one product many ways ("TensorFlow Lite for Microcontrollers v2.3.1", "Tensorflow Lite
Micro 2.3.1", "tflite-micro, https://…, commit_id:…"); the graph keeps each label as published and records
the product beside it as ``dlom:frameworkFamily``, written by every importer and the bench through
:func:`add_framework`. The framework requirement matches a label or a family, so the wizard can offer
one name per product.
"""
from __future__ import annotations

import re

from pyoxigraph import NamedNode

from kg.namespaces import DLOM, RDF, RDFS
from kg.writes import TripleBuilder

# Where a framework label as submitters wrote it turns into its source reference: a quoted or bare URL, a
# commit id, "from (…)".
_SOURCE = re.compile(r"""=\s*['"]|https?://|\bcommit\b|\bcommit[_ ]?(?:id|hash)|\s+from\s+\(""", re.I)

# (family, pattern on the label). A label names every family whose pattern it matches: "TensorRT 8.5,
# CUDA 11.8" is both TensorRT and CUDA. Conservative: a family is named only where the label spells it.
FAMILIES: tuple[tuple[str, re.Pattern[str]], ...] = tuple((family, re.compile(pattern, re.I)) for family, pattern in (
    ("TensorFlow Lite for Microcontrollers",
     r"tflite[\s_-]*micro|tensorflow[\s_-]*lite[\s_-]*(?:for[\s_-]*)?micro|\btfl[mu]\b"),
    ("TensorFlow Lite", r"(?:tflite|tensorflow[\s_-]*lite)(?![\s_-]*(?:for[\s_-]*)?micro)|\blitert\b"),
    ("TensorFlow", r"(?<![a-z])tensorflow(?![a-z]|[\s_-]*lite)|^TF\b"),
    ("PyTorch", r"\bpytorch\b"),
    ("ONNX Runtime", r"\bonnx[\s_-]*run[\s_-]*time\b|\bonnxruntime\b"),
    ("OpenVINO", r"(?<![a-z])openvino(?![a-z])"),
    ("TensorRT", r"\btensorrt\b"),
    ("CUDA", r"\bcuda\b"),
    ("Arm NN", r"\barm[\s_-]*nn\b|armnn"),
    ("Apache TVM", r"(?<![a-z])tvm\b"),
    ("microTVM", r"\bmicro[\s_-]*tvm\b"),
    ("DeepSparse", r"\bdeepsparse\b"),
    ("Qualcomm Cloud AI SDK", r"\bqualcomm cloud ai sdk\b"),
    ("Qualcomm AI Engine Direct (QNN)", r"(?<![a-z])qnn(?![a-z])"),
    ("Qualcomm Genie", r"\bgenie\b"),
    ("Snapdragon Neural Processing Engine", r"\bsnapdragon neural processing engine\b|\bsnpe\b"),
    ("Plumerai Inference Engine", r"\bplumerai inference engine\b"),
    ("FuriosaAI SDK", r"\bfuriosaai sdk\b"),
    ("STM32Cube.AI (X-CUBE-AI)", r"\bx[\s_-]*cube[\s_-]*ai\b|\bstm32[\s_-]*cube[\s_.-]*ai\b"),
    ("Bosch HALE", r"\bhale\b"),
))


def framework_name(label: str) -> str:
    """A framework's label without the source reference submitters appended to it
    ("TensorFlow Lite for Microcontrollers='https://github.com/…/tree/10b1…'" → "TensorFlow Lite for
    Microcontrollers", "TVM 0.9.dev commit=c3ace209" → "TVM 0.9.dev"). It is the start of the label, so the
    framework requirement (a label contains the answer) still finds the framework; a label that would be left
    with fewer than two characters is kept whole."""
    match = _SOURCE.search(label)
    name = label[:match.start()].rstrip(" ,;:=(") if match else label.strip()
    return name if len(name) >= 2 else label.strip()


def framework_families(label: str) -> tuple[str, ...]:
    """The families (products) a framework label names, in :data:`FAMILIES` order; () for a label that names
    none of them. Only the name is read, not the source reference after it (a URL's path names the
    repository, not the framework used)."""
    name = framework_name(label)
    return tuple(family for family, pattern in FAMILIES if pattern.search(name))


def add_framework(triples: TripleBuilder, framework: NamedNode, label: str, line: int | None = None,
                  field: str | None = None) -> None:
    """Add ``framework`` as a ``dlom:Framework`` labelled ``label``, with the :func:`framework_families`
    the label names: how every writer records a framework."""
    triples.add(framework, RDF.type, DLOM.Framework, line, field)
    triples.add(framework, RDFS.label, label, line, field)
    for family in framework_families(label):
        triples.add(framework, DLOM.frameworkFamily, family, line, field)


def offered_framework_names(families: list[str], unfamiliar_labels: list[str]) -> list[str]:
    """What the wizard offers for the framework answer: the families the graph records, and the
    :func:`framework_name` of each framework label of no family; one per spelling that differs only in case
    (the framework requirement ignores case), sorted ignoring case."""
    names: dict[str, str] = {}
    for name in [*families, *map(framework_name, unfamiliar_labels)]:
        names.setdefault(name.lower(), name)
    return sorted(names.values(), key=str.lower)
