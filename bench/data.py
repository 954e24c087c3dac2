"""The offline data every accuracy figure is measured on: the UCI handwritten digits.

scikit-learn ships the UCI ML hand-written digits data set (``sklearn.datasets.load_digits``: 1,797
8×8 grey images of the digits 0-9, values 0-16), so accuracy is measured on real images without a
download. Each network gets the digits in its own input shape:

* image inputs (C×H×W): the 8×8 image is bilinearly upsampled to H×W and repeated over C channels;
* flat inputs of N values: raw 64 pixels when N = 64, else the image upsampled to h×w with h·w = N
  (e.g. 32×20 for the autoencoder's 640 inputs).

Tasks: 10-way digit classification when the head has ≥ 10 outputs (larger reference heads keep
their unused logits); a binary task "digit ≥ 5" for a 2-way head (visual wake words' person/no
person); anomaly detection for autoencoders — trained on digits 0-4 only, scored on all test digits
with 5-9 as the anomalies, quality = ROC AUC of the reconstruction error. The split is fixed
(stratified, 30 % test, random_state 0) whatever the seed, so seeds vary only initialisation and
training order. Inputs are standardised with the training set's mean and deviation.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from bench.networks.registry import NetworkSpec

DATASET_NAME = "UCI handwritten digits (scikit-learn load_digits)"


@dataclass(frozen=True)
class DigitsTask:
    """Train and test arrays in one network's input shape, and what they are."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    kind: str  # "classification" | "anomaly-detection"
    metric: str
    description: str

    def train_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(self.x_train), torch.from_numpy(self.y_train)


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)
    return tuple(train_test_split(x, d.target.astype(np.int64), test_size=0.3, stratify=d.target, random_state=0))  # type: ignore[return-value]


def _flat_grid(n: int) -> tuple[int, int]:
    """(h, w) with h·w = n and w the largest divisor of n not above √n."""
    w = max(d for d in range(1, int(math.isqrt(n)) + 1) if n % d == 0)
    return n // w, w


def _reshape(images: np.ndarray, input_shape: tuple[int, ...]) -> np.ndarray:
    t = torch.from_numpy(images).unsqueeze(1)  # N×1×8×8
    if len(input_shape) == 3:
        c, h, w = input_shape
        out = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False).repeat(1, c, 1, 1)
    elif len(input_shape) == 1:
        (n,) = input_shape
        if n == 64:
            out = t.flatten(1)
        else:
            h, w = _flat_grid(n)
            out = F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False).flatten(1)
    else:
        raise ValueError(f"unsupported input shape {input_shape}")
    return out.numpy().astype(np.float32)


def _shape_text(input_shape: tuple[int, ...]) -> str:
    if len(input_shape) == 1 and input_shape[0] == 64:
        return "raw 8×8 pixels flattened to 64"
    if len(input_shape) == 1:
        h, w = _flat_grid(input_shape[0])
        return f"8×8 upsampled (bilinear) to {h}×{w}, flattened to {input_shape[0]}"
    c, h, w = input_shape
    return f"8×8 upsampled (bilinear) to {h}×{w}" + (f", repeated over {c} channels" if c > 1 else "")


_TASKS: dict[tuple, DigitsTask] = {}


def digits_task(spec: NetworkSpec) -> DigitsTask:
    """The digits task in ``spec``'s input shape (cached per input shape, head size and task kind)."""
    key = (spec.input_shape, spec.num_outputs, spec.task_kind)
    if key not in _TASKS:
        _TASKS[key] = _build_task(spec)
    return _TASKS[key]


def _build_task(spec: NetworkSpec) -> DigitsTask:
    xtr, xte, ytr, yte = _digits()
    xtr_s, xte_s = _reshape(xtr, spec.input_shape), _reshape(xte, spec.input_shape)
    mean, std = float(xtr_s.mean()), float(xtr_s.std()) or 1.0
    xtr_s, xte_s = (xtr_s - mean) / std, (xte_s - mean) / std
    shape = _shape_text(spec.input_shape)
    if spec.task_kind == "anomaly-detection":
        normal = ytr < 5
        desc = (f"{DATASET_NAME}, {shape}; trained on the {int(normal.sum())} training digits 0-4, "
                f"scored on {len(yte)} test digits (5-9 = anomalies)")
        return DigitsTask(xtr_s[normal], ytr[normal], xte_s, (yte >= 5).astype(np.int64), "anomaly-detection",
                          "ROC AUC of reconstruction error", desc)
    if spec.num_outputs == 2:
        desc = f"{DATASET_NAME}, {shape}; binary task digit ≥ 5; {len(ytr)} train / {len(yte)} test"
        return DigitsTask(xtr_s, (ytr >= 5).astype(np.int64), xte_s, (yte >= 5).astype(np.int64), "classification",
                          "top-1 accuracy", desc)
    desc = f"{DATASET_NAME}, {shape}; 10 classes; {len(ytr)} train / {len(yte)} test"
    return DigitsTask(xtr_s, ytr, xte_s, yte, "classification", "top-1 accuracy", desc)
