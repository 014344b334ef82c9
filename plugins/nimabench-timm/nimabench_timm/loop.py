"""One training epoch and one prediction pass, over any source of (inputs, targets) batches.

The same loop trains the whole model on pixels and the head alone on cached features: the caller passes
the ``forward`` that maps a batch to predicted distributions. The loss is the trial's torch kernel, averaged
over the batch (per-sample EMD, then the mean: FACTS). A non-finite loss stops the trial before the
optimiser step can spread it into the weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import torch

from nimabench.epochs import BatchCallback, EpochStats, EpochTally, check_finite_loss
from nimabench.schedule import Stage
from nimabench_timm.optim import apply_learning_rates
from nimabench_timm.runtime import Runtime

Forward = Callable[[torch.Tensor], torch.Tensor]
Batches = Iterable[tuple[torch.Tensor, torch.Tensor]]


@dataclass
class StepContext:
    forward: Forward
    optimizer: torch.optim.Optimizer
    kernel: Callable
    score_values: torch.Tensor
    stage: Stage
    runtime: Runtime


def train_epoch(step: StepContext, batches: Batches, *, epoch: int, iteration: int,
                on_batch: BatchCallback | None = None) -> tuple[EpochStats, int]:
    """Train over ``batches``; returns the epoch's statistics and the stage's step count after it."""
    tally = EpochTally()
    for inputs, targets in batches:
        apply_learning_rates(step.optimizer, step.stage, epoch, iteration)
        loss = train_step(step, inputs, targets)
        iteration += 1
        steps = tally.add(loss, len(targets))
        if on_batch:
            on_batch(steps, loss)
    return tally.stats(), iteration


def train_step(step: StepContext, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    with step.runtime.autocast():
        predicted = step.forward(inputs)
    loss = step.kernel(predicted.float(), targets.float(), step.score_values).mean()
    value = float(loss.detach())
    check_finite_loss(value, step.stage)  # before the optimiser step can spread it into the weights
    step.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    step.optimizer.step()
    return value


def predict(forward: Forward, batches: Batches, runtime: Runtime, buckets: int) -> np.ndarray:
    """Predicted distributions, (n, buckets) float64, in batch order; the caller sets eval mode."""
    outputs = []
    with torch.inference_mode(), runtime.autocast():
        for inputs, _ in batches:
            outputs.append(forward(inputs).float().cpu())
    if not outputs:
        return np.zeros((0, buckets), dtype=np.float64)
    return torch.cat(outputs).numpy().astype(np.float64)
