"""Progress events for the runner's bars, at most a few per second, with a cheap ETA for the stage.

Both trainers send their events through :class:`StageProgress`, so the runner's bars read the same from
either framework. Events: ``{"stage", "epoch" (0-based), "epochs", "batch" (done), "batches", "loss",
"phase", "eta_s"}``; ``phase`` is ``train`` or ``features`` (the feature cache being computed). The ETA is
the stage's remaining training batches times the mean time per batch so far in the stage (feature
extraction and val included).
"""

from __future__ import annotations

import time
from typing import Any

from nimabench.trainer import ProgressCallback

MIN_INTERVAL_S = 0.25  # a few events a second: more would only cost the worker's pipe and the parent's redraws


class StageProgress:
    """Throttled progress events of one stage: every final batch of an epoch is sent, others at most every
    ``MIN_INTERVAL_S``."""

    def __init__(self, callback: ProgressCallback, stage: str, epochs: int, batches_per_epoch: int):
        self.callback = callback
        self.stage = stage
        self.epochs = epochs
        self.batches = batches_per_epoch
        self.started = time.perf_counter()
        self.last_sent = 0.0
        self.batches_done = 0  # in the stage, over its epochs

    def train_batch(self, epoch: int, batch: int, loss: float) -> None:
        self.batches_done += 1
        final = batch >= self.batches
        if not final and time.perf_counter() - self.last_sent < MIN_INTERVAL_S:
            return
        self.send(phase="train", epoch=epoch, batch=batch, batches=self.batches, loss=loss, eta_s=self.eta_s())

    def features(self, done: int, total: int) -> None:
        if done < total and time.perf_counter() - self.last_sent < MIN_INTERVAL_S:
            return
        self.send(phase="features", epoch=0, batch=done, batches=total, loss=None)

    def send(self, **event: Any) -> None:
        self.last_sent = time.perf_counter()
        self.callback({"stage": self.stage, "epochs": self.epochs, **event})

    def eta_s(self) -> float | None:
        if not self.batches_done:
            return None
        remaining = self.epochs * self.batches - self.batches_done
        per_batch = (time.perf_counter() - self.started) / self.batches_done
        return max(0.0, remaining * per_batch)
