"""The hardware rule table of kg.hardware on names as published in the MLPerf Tiny and Inference rounds."""
from __future__ import annotations

import pytest

from kg.hardware import HARDWARE_RULES, identify_hardware, match_key, normalize_product_name

# (published name, default kind) → the product it is; every name here is copied from a real system JSON
SAME_PRODUCT = [
    ("Raspberry Pi 4 Model B", [("Raspberry Pi 4 (rpi4)", "server"), ("Raspberry Pi 4 Model B Rev 1.4 (rpi4)", "server"),
                                ("Raspberry Pi 4", "server"), ("Raspberry (Raspberry Pi 4 Model B Rev 1.1)", "server"),
                                ("Raspberry Pi 4B", "board")]),
    ("NVIDIA Jetson AGX Xavier", [("NVIDIA Jetson AGX Xavier", "server"), ("NVIDIA Jetson AGX Xavier 32GB", "server"),
                                  ("Auvidea X220-LC AGX Xavier 32GB", "server")]),
    ("NVIDIA Jetson Xavier NX", [("NVIDIA Jetson Xavier NX", "server"), ("Auvidea JNX30 Xavier NX", "server")]),
    ("NVIDIA Jetson AGX Orin", [("NVIDIA Jetson AGX Orin", "server")]),
    ("Firefly-RK3399", [("Firefly-RK3399 (firefly)", "server")]),
    ("Hardkernel Odroid N2+", [("Odroid N2+ (odroid)", "server")]),
    ("NUCLEO-L4R5ZI", [("NUCLEO-L4R5ZI", "board"), ("Nucleo-L4R5ZI", "board")]),
]


@pytest.mark.parametrize("label, names", SAME_PRODUCT)
def test_published_names_of_one_product_give_one_key(label: str, names: list[tuple[str, str]]) -> None:
    keys = {identify_hardware(name, kind).key for name, kind in names}
    assert len(keys) == 1
    assert identify_hardware(*names[0]).label == label


def test_more_specific_products_are_not_swallowed() -> None:
    pi4 = identify_hardware("Raspberry Pi 4 (rpi4)", "board").key
    assert identify_hardware("Raspberry Pi 4 with Coral (rpi4coral)", "board").key != pi4
    assert identify_hardware("Raspberry Pi 3 Model B Rev 1.2 (rpi3)", "board").key != pi4
    assert identify_hardware("NVIDIA Orin NX", "board").key != identify_hardware("NVIDIA Jetson AGX Orin", "board").key
    assert identify_hardware("NUCLEO-H7A3ZI-Q", "board").key != identify_hardware("NUCLEO-H7A3ZI", "board").key


def test_unsure_names_are_linked_not_merged() -> None:
    orin = identify_hardware("NVIDIA Orin", "server")
    assert orin.key != identify_hardware("NVIDIA Jetson AGX Orin", "server").key
    assert orin.possibly_same == (identify_hardware("NVIDIA Jetson AGX Orin", "server").key,)
    gloria = identify_hardware("Foxconn Gloria", "server")
    assert len(gloria.possibly_same) == 2


def test_names_no_rule_knows_merge_only_when_they_normalize_alike() -> None:
    a = identify_hardware("Gigabyte G482-Z54 with NVIDIA A30", "server")
    assert a.rule is None and a.key == match_key("server", "Gigabyte G482-Z54 with NVIDIA A30")
    assert identify_hardware("GIGABYTE G482-Z54 with NVIDIA A30", "server").key == a.key
    assert identify_hardware("Gigabyte G482-Z54 with NVIDIA A100-PCIe", "server").key != a.key


def test_rule_table_is_well_formed() -> None:
    labels = [r.label for r in HARDWARE_RULES]
    assert len(labels) == len(set(labels))
    for rule in HARDWARE_RULES:
        assert normalize_product_name(rule.label)
        for other in rule.possibly_same:
            assert other in labels
        # each rule's own label is identified as itself
        assert identify_hardware(rule.label, rule.kind).key == rule.key
