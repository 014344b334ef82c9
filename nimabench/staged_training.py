"""The stage loop of a trial, without any framework: what both trainers do, in the same order.

Per stage: set what trains and make the optimisers (the framework's :meth:`StagedTrial.begin_stage`), fill
the feature cache if only the head trains and ``cache_features`` is on, then train epoch by epoch, scoring
the val split after each epoch with the loss's NumPy reference (the definition, so both frameworks are
judged alike), keeping the best epoch over the whole trial and stopping the stage early after
``early_stopping_patience`` epochs without improvement. Epochs are counted across stages (``epochs_done``),
so the seeded (seed, epoch) shuffles and crops of two epochs of a trial never repeat. A stage that trains the
base makes the cached features stale.

A framework subclass supplies the six methods marked abstract; it keeps its own weights and tensors.
"""

from __future__ import annotations

import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

from nimabench.epochs import BatchCallback, EpochStats
from nimabench.progress import StageProgress
from nimabench.schedule import Stage
from nimabench.selection import BestEpoch, EarlyStopping
from nimabench.trainer import TrainContext
from nimabench.trial_data import TrialData

log = logging.getLogger(__name__)

# progress(done_batches, total_batches) while the feature cache fills
FeatureProgress = Callable[[int, int], None]


class StagedTrial(ABC):
    def __init__(self, context: TrainContext, data: TrialData):
        self.context = context
        self.data = data
        self.batch_size = context.options.batch_size
        self.best = BestEpoch()
        self.history: list[dict[str, Any]] = []
        self.features_ready = False  # the feature cache describes the current base
        self.epochs_done = 0  # across stages: the seed stream's epoch number
        self.train_seconds = 0.0

    # -- what a framework supplies ------------------------------------------------------------------------------
    @abstractmethod
    def begin_stage(self, stage: Stage, cached: bool) -> None:
        """Set what trains and make the stage's optimisers (its step count starts at 0)."""

    @abstractmethod
    def extract_features(self, progress: FeatureProgress) -> None:
        """Fill the feature cache from the current (frozen) base."""

    @abstractmethod
    def train_epoch(self, stage: Stage, cached: bool, epoch: int, iteration: int,
                    on_batch: BatchCallback) -> tuple[EpochStats, int]:
        """One epoch over the train split; returns its statistics and the stage's step count after it."""

    @abstractmethod
    def predict_val(self, cached: bool) -> np.ndarray:
        """Predicted distributions of the val split's centre crops (from cached features when ``cached``)."""

    @abstractmethod
    def keep_best(self) -> None:
        """Keep a copy of the current weights: they are the best so far."""

    @abstractmethod
    def learning_rates(self) -> dict[str, float]:
        """The optimisers' current rates, for the history (``lr_head``, ``lr_base``)."""

    # -- the loop -------------------------------------------------------------------------------------------------
    def run_stages(self) -> None:
        started = time.perf_counter()
        for stage in self.context.stages:
            if stage.epochs > 0:
                self.run_stage(stage)
        self.train_seconds = time.perf_counter() - started

    def run_stage(self, stage: Stage) -> None:
        cached = self.context.options.cache_features and not stage.trains_base
        progress = StageProgress(self.context.progress, stage.name, stage.epochs,
                                 self.data.batch_count(self.data.train, self.batch_size))
        self.begin_stage(stage, cached)
        if cached and not self.features_ready:
            self.extract_features(progress.features)
            self.features_ready = True
        self.run_epochs(stage, cached, progress)
        if stage.trains_base:
            self.features_ready = False  # the base changed: cached features no longer describe it

    def run_epochs(self, stage: Stage, cached: bool, progress: StageProgress) -> None:
        stopping = EarlyStopping(self.context.options.early_stopping_patience, has_val=len(self.data.val) > 0)
        iteration = 0
        for epoch in range(stage.epochs):
            stats, iteration = self.train_epoch(
                stage, cached, epoch, iteration, lambda batch, loss, e=epoch: progress.train_batch(e, batch, loss))
            val_loss = self.val_loss(cached)
            self.record(stage, epoch, stats, val_loss, cached)
            if self.best.offer(val_loss, stage.name, epoch):
                self.keep_best()
            self.epochs_done += 1
            if stopping.should_stop(val_loss):
                log.info("stage %s stops early after epoch %d: no val improvement for %d epochs",
                         stage.name, epoch + 1, stopping.stale_epochs)
                break

    def keep_built_model_if_no_epoch_ran(self) -> None:
        """With no epoch run (every stage had 0 epochs), the built model is the result."""
        if not self.best.where:
            self.best.offer(math.nan, "none", -1)
            self.keep_best()

    def val_loss(self, cached: bool) -> float:
        """The trial's loss (its NumPy reference: the definition) on the val split's centre crops."""
        if not len(self.data.val):
            return math.nan
        predicted = self.predict_val(cached)
        targets = self.data.targets[self.data.val.rows]
        return float(np.mean(self.context.loss(predicted, targets, self.data.score_values)))

    def record(self, stage: Stage, epoch: int, stats: EpochStats, val_loss: float, cached: bool) -> None:
        self.history.append({
            "stage": stage.name, "epoch": epoch, "train_loss": stats.loss,
            "val_loss": val_loss if math.isfinite(val_loss) else None, "seconds": stats.seconds,
            "images": stats.images, "images_per_second": stats.images_per_second, "features_cached": cached,
            **self.learning_rates(),
        })

    @property
    def features_cached(self) -> bool:
        """Whether any epoch trained on cached features (recorded with the trial)."""
        return any(row["features_cached"] for row in self.history)

    def train_rate(self) -> float:
        """Images/s of the epochs that ran the backbone (cached-feature epochs time only the head)."""
        return train_rate(self.history)


def train_rate(history: list[dict[str, Any]]) -> float:
    """Images/s over the history rows that ran the backbone, or over all rows when none did."""
    rows = [row for row in history if not row["features_cached"]] or history
    seconds = sum(row["seconds"] for row in rows)
    return sum(row["images"] for row in rows) / seconds if seconds > 0 else 0.0
