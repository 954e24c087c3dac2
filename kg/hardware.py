"""Hardware entities: one ``dlom:Hardware`` node per physical product, whichever source measured it.

Every importer that describes a device or a server (MLPerf Tiny, MLPerf Inference, AI Hub Models,
DLOM's own benchmark hosts) links each ``dlom:EndDevice`` / ``dlom:CloudConfiguration`` it writes to
the hardware it is a configuration of (``dlom:hardware``, and ``dlom:hasConfiguration`` back). The
hardware IRI is derived from a *match key* alone, so two sources that derive the same key name the
same node without reading the store, and imports stay independent and idempotent.

A match key is ``kind`` + a normalized product name. :func:`normalize_product_name` is deliberately
conservative: it folds case, punctuation, vendor-neutral filler words and trademark signs, nothing
else — deciding that two *different* strings are one product (e.g. a board renamed between rounds)
is the job of an importer's explicit, tested rule table, and where a rule is unsure it writes two
entities linked by ``dlom:possiblySameHardwareAs`` instead (:func:`hardware_triples`).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pyoxigraph import Literal, NamedNode, Triple

from kg.namespaces import DLOM, RDF, RDFS, entity

HARDWARE_KINDS = ("board", "soc", "module", "phone", "laptop", "vehicle-platform", "xr-headset", "server",
                  "accelerator-card", "cpu", "host")

# Words that name no product: marketing and packaging filler that sources add or drop freely.
_FILLER = re.compile(r"\b(the|development|dev|kit|board|evaluation|eval|platform|reference|design|mobile|"
                     r"edition|series)\b")


def normalize_product_name(name: str) -> str:
    """The product name folded for matching: NFKD ASCII, lower case, ™/®/© and punctuation removed,
    filler words (board, kit, platform, …) dropped, whitespace collapsed. ``""`` when nothing is left.

    >>> normalize_product_name("NUCLEO-L4R5ZI")
    'nucleo l4r5zi'
    >>> normalize_product_name("Snapdragon® 8 Gen 3 Mobile Platform")
    'snapdragon 8 gen 3'
    """
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\((?:tm|r|c)\)", " ", text)
    text = re.sub(r"[^a-z0-9.+]+", " ", text)
    text = _FILLER.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip(" .")


def match_key(kind: str, name: str) -> str:
    """``kind:normalized-name``; raises ``ValueError`` for an unknown kind or a name that normalizes to nothing."""
    if kind not in HARDWARE_KINDS:
        raise ValueError(f"unknown hardware kind {kind!r} (one of {', '.join(HARDWARE_KINDS)})")
    normalized = normalize_product_name(name)
    if not normalized:
        raise ValueError(f"hardware name {name!r} has nothing left to match on")
    return f"{kind}:{normalized}"


def hardware_iri(key: str) -> NamedNode:
    """The IRI of the hardware entity with this match key (see :func:`match_key`)."""
    kind, _, name = key.partition(":")
    return entity("hardware", kind, name)


def hardware_triples(key: str, label: str, configurations: Iterable[NamedNode],
                     possibly_same_as: Iterable[str] = (), vendor: str | None = None) -> list[Triple]:
    """The triples of one hardware entity and its links both ways to ``configurations`` (device or
    cloud-configuration IRIs), plus ``dlom:possiblySameHardwareAs`` to the entities of ``possibly_same_as``
    (match keys) in both directions."""
    hw = hardware_iri(key)
    kind = key.partition(":")[0]
    out = [Triple(hw, RDF.type, DLOM.Hardware), Triple(hw, RDFS.label, Literal(label)),
           Triple(hw, DLOM.hardwareKind, Literal(kind)), Triple(hw, DLOM.matchKey, Literal(key))]
    if vendor:
        out.append(Triple(hw, DLOM.vendor, Literal(vendor)))
    for c in configurations:
        out += [Triple(c, DLOM.hardware, hw), Triple(hw, DLOM.hasConfiguration, c)]
    for other in possibly_same_as:
        o = hardware_iri(other)
        if o != hw:
            out += [Triple(hw, DLOM.possiblySameHardwareAs, o), Triple(o, DLOM.possiblySameHardwareAs, hw)]
    return out


# ---------------------------------------------------------------------------------------------------
# The rule table: published names that are one product
# ---------------------------------------------------------------------------------------------------


class HardwareRule:
    """One explicit rule: a published name matching ``pattern`` (case-insensitive, searched in the
    name as published) is the product ``label`` of ``kind``. ``possibly_same`` names the labels of
    other rules' products that this one may be (kept apart, linked by ``dlom:possiblySameHardwareAs``)."""

    __slots__ = ("pattern", "kind", "label", "possibly_same")

    def __init__(self, pattern: str, kind: str, label: str, possibly_same: tuple[str, ...] = ()) -> None:
        if kind not in HARDWARE_KINDS:
            raise ValueError(f"unknown hardware kind {kind!r}")
        self.pattern = re.compile(pattern, re.IGNORECASE)
        self.kind = kind
        self.label = label
        self.possibly_same = possibly_same

    @property
    def key(self) -> str:
        return match_key(self.kind, self.label)


# Order matters: the first rule whose pattern is found wins, so a more specific product (an Xavier NX,
# an Orin NX, a Raspberry Pi 4 with a Coral accelerator) is listed before the one its name contains.
# Every pattern is a name as published in the MLPerf Tiny / Inference rounds (tests/test_hardware.py).
HARDWARE_RULES: tuple[HardwareRule, ...] = (
    HardwareRule(r"raspberry pi 4.*coral|rpi4coral", "board", "Raspberry Pi 4 Model B with Coral USB Accelerator"),
    HardwareRule(r"raspberry\s*pi\s*4|\brpi4\b|\(raspberry pi 4 model b", "board", "Raspberry Pi 4 Model B"),
    HardwareRule(r"raspberry\s*pi\s*3|\brpi3\b", "board", "Raspberry Pi 3 Model B"),
    HardwareRule(r"xavier\s*nx", "module", "NVIDIA Jetson Xavier NX",),
    # a carrier board (Auvidea X220-LC, JNX30) is named with its module: the module is the compute hardware
    HardwareRule(r"(jetson )?agx xavier|^nvidia jetson xavier$|^xavier$", "module", "NVIDIA Jetson AGX Xavier"),
    HardwareRule(r"orin nx", "module", "NVIDIA Jetson Orin NX"),
    HardwareRule(r"jetson agx orin", "module", "NVIDIA Jetson AGX Orin"),
    # 'NVIDIA Orin' (v2.0, NVIDIA's own submission) names no module: it may be the AGX Orin dev kit
    HardwareRule(r"^nvidia orin\b", "module", "NVIDIA Orin (module not named)",
                 possibly_same=("NVIDIA Jetson AGX Orin",)),
    HardwareRule(r"firefly[- ]?rk3399", "board", "Firefly-RK3399"),
    HardwareRule(r"firefly[- ]?rk3588s", "board", "Firefly-RK3588S"),
    HardwareRule(r"hikey\s*960", "board", "Linaro HiKey960"),
    HardwareRule(r"mate\s*10\s*pro", "phone", "Huawei Mate 10 Pro"),
    HardwareRule(r"odroid[- ]?n2\+", "board", "Hardkernel Odroid N2+"),
    HardwareRule(r"khadas vim4", "board", "Khadas VIM4"),
    HardwareRule(r"sdm855", "phone", "Qualcomm SDM855 reference device"),
    HardwareRule(r"^ai development kit$", "board", "Qualcomm Cloud AI 100 Development Kit"),
    HardwareRule(r"thundercomm turbox eb6", "board", "Thundercomm TurboX EB6 Edge AI Box"),
    HardwareRule(r"thundercomm rb6", "board", "Thundercomm RB6"),
    HardwareRule(r"foxconn gloria \(entry\)", "board", "Foxconn Gloria (Entry)"),
    HardwareRule(r"foxconn gloria \(highend\)", "board", "Foxconn Gloria (Highend)"),
    # a v2.0 Foxconn Gloria that names no variant may be either
    HardwareRule(r"^foxconn gloria$", "board", "Foxconn Gloria (variant not named)",
                 possibly_same=("Foxconn Gloria (Entry)", "Foxconn Gloria (Highend)")),
    HardwareRule(r"inventec heimdall", "board", "Inventec Heimdall"),
    HardwareRule(r"macbook[- ]pro[- ]?(2 )?m1 pro|macbook m1 pro", "laptop", "Apple MacBook Pro (M1 Pro)"),
    # 'MacBook-Pro M1' and 'MacBook Pro M1 2020' are the 13-inch M1 MacBook Pro (the only 2020 M1 Pro model)
    HardwareRule(r"macbook[- ]pro m1( 2020)?$", "laptop", "Apple MacBook Pro 13-inch (M1, 2020)"),
    HardwareRule(r"nucleo[- _]?l4r5zi", "board", "NUCLEO-L4R5ZI"),
    HardwareRule(r"nucleo[- _]?h7a3zi[- _]?q", "board", "NUCLEO-H7A3ZI-Q", possibly_same=("NUCLEO-H7A3ZI",)),
    HardwareRule(r"nucleo[- _]?h7a3zi", "board", "NUCLEO-H7A3ZI"),
    HardwareRule(r"nucleo[- _]?u575zi[- _]?q", "board", "NUCLEO-U575ZI-Q"),
    HardwareRule(r"nucleo[- _]?g0b1re", "board", "NUCLEO-G0B1RE"),
    HardwareRule(r"disco[- _]?f746ng", "board", "STM32F746G-DISCO"),
    HardwareRule(r"pynq[- _]?z2", "board", "PYNQ-Z2"),
    HardwareRule(r"nrf5340[- _]?dk", "board", "nRF5340 DK"),
    HardwareRule(r"cy8cproto[- _]?062[- _]?4343w", "board", "CY8CPROTO-062-4343W"),
)


class HardwareIdentity:
    """The hardware entity a published name is: match key, label and possibly-same keys."""

    __slots__ = ("key", "label", "possibly_same", "rule")

    def __init__(self, key: str, label: str, possibly_same: tuple[str, ...], rule: HardwareRule | None) -> None:
        self.key, self.label, self.possibly_same, self.rule = key, label, possibly_same, rule


def _rule_by_label(label: str) -> HardwareRule:
    for rule in HARDWARE_RULES:
        if rule.label == label:
            return rule
    raise KeyError(label)


def identify_hardware(name: str, default_kind: str) -> HardwareIdentity:
    """The hardware a published product name names: the first rule of :data:`HARDWARE_RULES` whose
    pattern it contains, else the name itself (normalized, of ``default_kind``) — so names no rule
    knows merge only when they normalize alike, never by resemblance. Raises ``ValueError`` for a
    name with nothing to match on."""
    text = " ".join(name.split())
    for rule in HARDWARE_RULES:
        if rule.pattern.search(text):
            others = tuple(_rule_by_label(label).key for label in rule.possibly_same)
            return HardwareIdentity(rule.key, rule.label, others, rule)
    return HardwareIdentity(match_key(default_kind, text), text, (), None)


def possibly_same_triples(keys: Iterable[str]) -> list[Triple]:
    """Type and label triples for the rule-table entities that ``keys`` (possibly-same targets) name,
    so each ``dlom:possiblySameHardwareAs`` target is a typed ``dlom:Hardware`` in the same write."""
    out: list[Triple] = []
    for key in keys:
        rule = next((r for r in HARDWARE_RULES if r.key == key), None)
        hw = hardware_iri(key)
        out += [Triple(hw, RDF.type, DLOM.Hardware), Triple(hw, DLOM.hardwareKind, Literal(key.partition(":")[0])),
                Triple(hw, DLOM.matchKey, Literal(key))]
        if rule is not None:
            out.append(Triple(hw, RDFS.label, Literal(rule.label)))
    return out
