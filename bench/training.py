"""Training and evaluation on the digits task — the same code for baselines, fine-tuning and
distillation, and one evaluation for every runtime (it takes a predict function over numpy batches)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bench.data import DigitsTask

PredictFn = Callable[[np.ndarray], np.ndarray]
StepHook = Callable[[nn.Module], None]
LossFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]


def task_loss(task: DigitsTask) -> LossFn:
    """Cross-entropy for classification, reconstruction MSE for anomaly detection."""
    if task.kind == "anomaly-detection":
        return lambda model, x, y: F.mse_loss(model(x), x.flatten(1))
    return lambda model, x, y: F.cross_entropy(model(x), y)


def train(model: nn.Module, task: DigitsTask, epochs: int, learning_rate: float, seed: int, batch_size: int = 64,
          loss_fn: LossFn | None = None, after_step: StepHook | None = None,
          on_progress: Callable[[float], None] | None = None) -> nn.Module:
    """Train ``model`` in place with Adam for ``epochs`` passes over the training set.

    ``after_step`` runs after every optimiser step (pruning uses it to keep pruned weights at zero);
    ``on_progress`` gets the fraction of all batches done (0..1) after each one, so a caller's progress
    moves during training, which dominates a benchmark run. The shuffling order depends only on ``seed``.
    """
    loss_fn = loss_fn or task_loss(task)
    x, y = task.train_tensors()
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=learning_rate)
    model.train()
    batches = epochs * -(-len(x) // batch_size)
    done = 0
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch_size):
            done += 1
            if on_progress is not None:
                on_progress(done / batches)
            idx = order[i : i + batch_size]
            if len(idx) < 2:  # batch normalisation needs two samples
                continue
            opt.zero_grad()
            loss = loss_fn(model, x[idx], y[idx])
            loss.backward()
            opt.step()
            if after_step is not None:
                after_step(model)
    model.eval()
    return model


def torch_predict(model: nn.Module) -> PredictFn:
    """A predict function running ``model`` in PyTorch eager mode (float32 in, float32 out)."""
    model.eval()
    dtype = next(model.parameters()).dtype

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(batch).to(dtype)).float().numpy()

    return predict


def evaluate(predict: PredictFn, task: DigitsTask, batch_size: int = 128) -> float:
    """Quality on the test set: top-1 accuracy, or ROC AUC of reconstruction error for anomaly detection."""
    outs = [predict(task.x_test[i : i + batch_size]) for i in range(0, len(task.x_test), batch_size)]
    out = np.concatenate(outs)
    if task.kind == "anomaly-detection":
        from sklearn.metrics import roc_auc_score

        err = ((out - task.x_test.reshape(len(out), -1)) ** 2).mean(axis=1)
        return float(roc_auc_score(task.y_test, err))
    return float((out.argmax(axis=1) == task.y_test).mean())
