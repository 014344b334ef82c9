"""One training epoch's bookkeeping, the same in every framework: its statistics and the non-finite-loss rule.

A trainer's epoch loop adds each step's mean batch loss to an :class:`EpochTally` and checks it with
:func:`check_finite_loss`: a NaN or infinite loss fails the trial at once, before it can spread into the
weights or be averaged into a history row that looks like a number.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from nimabench.errors import NimabenchError
from nimabench.schedule import Stage

# on_batch(batch_number, loss): after each optimiser step
BatchCallback = Callable[[int, float], None]


class NonFiniteLossError(NimabenchError):
    """The training loss became NaN or infinite: the trial fails (lower the learning rate)."""


def check_finite_loss(loss: float, stage: Stage) -> None:
    if not math.isfinite(loss):
        raise NonFiniteLossError(
            f"training loss is {loss} at stage {stage.name!r} (lr head {stage.head_lr:g}, "
            f"base {stage.base_lr:g}): the trial is stopped"
        )


@dataclass
class EpochStats:
    loss: float
    images: int
    steps: int
    seconds: float

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else 0.0


@dataclass
class EpochTally:
    """Sums over an epoch's steps; the epoch's loss is the mean over images, not over batches."""

    started: float = field(default_factory=time.perf_counter)
    total_loss: float = 0.0
    images: int = 0
    steps: int = 0

    def add(self, loss: float, images: int) -> int:
        """Count one step of ``images`` images and mean loss ``loss``; returns the steps so far."""
        self.steps += 1
        self.images += images
        self.total_loss += loss * images
        return self.steps

    def stats(self) -> EpochStats:
        mean_loss = self.total_loss / self.images if self.images else math.nan
        return EpochStats(mean_loss, self.images, self.steps, time.perf_counter() - self.started)
