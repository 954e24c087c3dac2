"""Deterministic node features from RDF attributes: numeric transforms and hashed text tokens.

Text such as a processor name ("Arm Cortex-M4 @ 80 MHz", "RISC-V AndesCore AX45MP") becomes a bag of
lower-case word tokens hashed into a fixed number of buckets with a *stable* hash (CRC32, never
Python's salted ``hash``), so the same graph always yields the same features, and a device that was
never measured still gets features from its attributes (cold start).
"""
from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable, Sequence

import numpy as np

TOKEN_BUCKETS = 64
_TOKEN = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")
# Tokens that carry no information about hardware or software.
_STOP = frozenset({"the", "and", "with", "of", "for", "on", "in", "mhz", "ghz", "kb", "mb", "gb", "x", "core", "cores"})


def tokens(text: str | None) -> list[str]:
    """Lower-case word tokens of ``text``; compound tokens ("cortex-m4") also yield their parts."""
    if not text:
        return []
    out: list[str] = []
    for tok in _TOKEN.findall(text.lower()):
        if tok in _STOP:
            continue
        out.append(tok)
        parts = re.split(r"[-_.]", tok)
        if len(parts) > 1:
            out.extend(p for p in parts if p and p not in _STOP)
    return out


def hashed_bag(texts: Iterable[str | None], buckets: int = TOKEN_BUCKETS) -> np.ndarray:
    """An L2-normalized bag of hashed tokens of all ``texts`` (zeros when there are none)."""
    v = np.zeros(buckets, dtype=np.float32)
    for text in texts:
        for tok in tokens(text):
            v[zlib.crc32(tok.encode()) % buckets] += 1.0
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


def log_feature(value: float | None) -> tuple[float, float]:
    """(log1p(value), 1.0) for a known non-negative value, (0.0, 0.0) when unknown: value and known-flag."""
    if value is None or not math.isfinite(value) or value < 0:
        return 0.0, 0.0
    return math.log1p(value), 1.0


def plain_feature(value: float | None) -> tuple[float, float]:
    """(value, 1.0) when known, (0.0, 0.0) when unknown."""
    if value is None or not math.isfinite(value):
        return 0.0, 0.0
    return float(value), 1.0


def one_hot(value: str | None, vocabulary: Sequence[str]) -> list[float]:
    """One-hot of ``value`` over a fixed vocabulary (all zeros when it is not in it)."""
    return [1.0 if value == v else 0.0 for v in vocabulary]
