"""Parsing of quantities written with units inside strings ('280 MHz', '1.19MB', '320KB', '8 GB', '$70').

Each dimension has one canonical unit, the one its ontology property names: frequency in MHz, memory and
storage in KB (1024 bytes), price in USD, camera resolution in megapixels, time in ms, energy in uJ,
power in mW. An unknown unit raises :class:`UnitError` naming it; nothing is guessed.
"""
from __future__ import annotations

import re
from decimal import Decimal


class UnitError(ValueError):
    """A quantity whose unit is missing, unknown or of another dimension."""


_FACTORS: dict[str, dict[str, Decimal]] = {
    "frequency": {"hz": Decimal("0.000001"), "khz": Decimal("0.001"), "mhz": Decimal(1), "ghz": Decimal(1000),
                  # a bare "M" after a clock ("20M", "277.5M") means MHz; no one quotes a clock in mHz
                  "m": Decimal(1)},
    "memory": {"b": Decimal(1) / 1024, "byte": Decimal(1) / 1024, "bytes": Decimal(1) / 1024,
               "kb": Decimal(1), "kib": Decimal(1), "k": Decimal(1), "kbyte": Decimal(1), "kbytes": Decimal(1),
               "mb": Decimal(1024), "mib": Decimal(1024), "m": Decimal(1024), "mbyte": Decimal(1024), "mbytes": Decimal(1024),
               "gb": Decimal(1024 ** 2), "gib": Decimal(1024 ** 2), "g": Decimal(1024 ** 2),
               "tb": Decimal(1024 ** 3), "tib": Decimal(1024 ** 3)},
    "price": {"usd": Decimal(1), "$": Decimal(1), "dollar": Decimal(1), "dollars": Decimal(1)},
    "resolution": {"mp": Decimal(1), "megapixel": Decimal(1), "megapixels": Decimal(1), "kp": Decimal("0.001")},
    "time": {"s": Decimal(1000), "sec": Decimal(1000), "ms": Decimal(1), "us": Decimal("0.001"), "µs": Decimal("0.001")},
    "energy": {"j": Decimal(10) ** 6, "mj": Decimal(1000), "uj": Decimal(1), "µj": Decimal(1), "nj": Decimal("0.001")},
    "power": {"w": Decimal(1000), "mw": Decimal(1), "uw": Decimal("0.001"), "µw": Decimal("0.001")},
}
CANONICAL = {"frequency": "MHz", "memory": "KB", "price": "USD", "resolution": "MP", "time": "ms", "energy": "uJ", "power": "mW"}

_QUANTITY = re.compile(r"^\s*(?P<pre>\$)?\s*(?P<num>[-+]?\d[\d,]*(?:\.\d+)?|[-+]?\.\d+)\s*(?P<unit>[^\d\s].*?)?\s*$")


def parse_quantity(text: str, dimension: str, default_unit: str | None = None) -> Decimal:
    """The value of ``text`` in the canonical unit of ``dimension``.

    ``default_unit`` applies when the text has a bare number. Raises :class:`UnitError` for text that is
    not one number with a known unit of that dimension.
    """
    factors = _FACTORS[dimension]
    m = _QUANTITY.match(text)
    if not m:
        raise UnitError(f"{text!r} is not a {dimension} quantity (expected a number and a unit, e.g. "
                        f"'12 {CANONICAL[dimension]}')")
    unit = (m.group("unit") or "").strip().lower().replace(" ", "")
    if m.group("pre"):
        unit = unit or "$"
    if not unit:
        if default_unit is None:
            raise UnitError(f"{text!r} has no unit; expected a {dimension} unit such as {CANONICAL[dimension]}")
        unit = default_unit.lower()
    if unit not in factors:
        known = ", ".join(sorted({k for k in factors if k.isalpha() or k == '$'}))
        raise UnitError(f"unknown {dimension} unit {unit!r} in {text!r} (known: {known})")
    return Decimal(m.group("num").replace(",", "")) * factors[unit]
