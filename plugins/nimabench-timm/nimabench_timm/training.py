"""A whole trial in PyTorch: stages in order, the best epoch on val, test predictions from the best weights.

Per stage: set what trains (:mod:`nimabench_timm.blocks`), make its optimiser (:mod:`nimabench_timm.optim`),
then train epoch by epoch - on cached features when only the head trains and ``cache_features`` is on
(:mod:`nimabench_timm.features`), else on augmented pixels - scoring the val split after each epoch and
stopping the stage early after ``early_stopping_patience`` epochs without a val improvement. Everything
random is seeded from the trial's seed: torch's generator (head init, dropout), and the per-epoch
shuffles, crops, flips and feature views through the core's ``(seed, epoch)`` streams, with epochs
counted across stages so no two epochs of a trial repeat an order.
"""

from __future__ import annotations

import functools
import logging
import math
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nimabench.errors import NimabenchError
from nimabench.schedule import Stage
from nimabench.trainer import TrainContext, TrainResult
from nimabench_timm import __version__
from nimabench_timm.blocks import frozen_modules, set_trainable, train_mode
from nimabench_timm.checkpoint import BestCheckpoint
from nimabench_timm.data import Split, TrialData, image_tensor_batches, load_trial_data
from nimabench_timm.features import VIEWS, CachedFeatures, extract_features
from nimabench_timm.loop import EpochStats, Forward, StepContext, predict, train_epoch
from nimabench_timm.model import NimaModel, missing_weights_message
from nimabench_timm.optim import current_learning_rates, make_optimizer
from nimabench_timm.progress import StageProgress
from nimabench_timm.runtime import Runtime, setup_runtime
from nimabench_timm.timm_import import import_timm

log = logging.getLogger(__name__)


class RandomInitWarning(UserWarning):
    """A trial trains from random weights because no pretrained weights were found (allow_random_init)."""


def train_trial(context: TrainContext) -> TrainResult:
    options = context.options
    runtime = setup_runtime(options.device, threads=options.threads, seed=context.spec.seed)
    pretrained = decide_pretrained(context)
    model = context.backbone.build(num_buckets=len(context.manifest.score_values), pretrained=pretrained,
                                   weights_dir=options.weights_dir, dropout=options.dropout)
    model = model.to(runtime.device, memory_format=runtime.memory_format)
    data = load_trial_data(context.manifest, input_size(context), options.cache_size, options.cache_dir)
    return TrialRun(context, runtime, model, data).run()


def decide_pretrained(context: TrainContext) -> bool:
    """True when weights are found; without them an error, or a warning under ``allow_random_init``."""
    lookup = context.backbone.find_pretrained(context.options.weights_dir)
    if lookup.found:
        return True
    message = missing_weights_message(context.backbone.name, lookup.searched)
    if not context.options.allow_random_init:
        raise NimabenchError(message)
    warnings.warn(f"{message} Training from random init, as allowed.", RandomInitWarning, stacklevel=2)
    return False


def input_size(context: TrainContext) -> int:
    sized = getattr(context.backbone, "input_size", None)
    return context.options.image_size or (sized() if callable(sized) else context.backbone.default_input_size)


@dataclass
class TrialRun:
    context: TrainContext
    runtime: Runtime
    model: NimaModel
    data: TrialData
    best: BestCheckpoint = field(default_factory=BestCheckpoint)
    history: list[dict[str, Any]] = field(default_factory=list)
    features: CachedFeatures | None = None  # valid while the base is unchanged
    epochs_done: int = 0  # across stages: the seed stream's epoch number
    train_seconds: float = 0.0

    def __post_init__(self) -> None:
        self.kernel = self.context.loss.kernel("torch")
        self.scores = torch.as_tensor(self.data.score_values, dtype=torch.float32, device=self.runtime.device)
        self.batch_size = self.context.options.batch_size

    # -- the trial -------------------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        started = time.perf_counter()
        for stage in self.context.stages:
            if stage.epochs > 0:
                self.run_stage(stage)
        self.train_seconds = time.perf_counter() - started
        self.best.restore(self.model)
        weights_path = self.save_best()
        predictions, inference_rate = self.predict_test()
        return self.result(predictions, inference_rate, weights_path)

    def run_stage(self, stage: Stage) -> None:
        trainable = set_trainable(self.model, stage.trainable)
        cached = self.context.options.cache_features and not stage.trains_base
        progress = StageProgress(self.context.progress, stage.name, stage.epochs,
                                 self.data.batch_count(self.data.train, self.batch_size))
        if cached and self.features is None:
            views = int(self.context.spec.overrides.get("feature_views", VIEWS))
            self.features = extract_features(self.model, self.data, self.runtime, self.batch_size,
                                             progress.features, views)
        optimizer = make_optimizer(stage, trainable.head, trainable.base)
        step = StepContext(self.train_forward(stage, cached), optimizer, self.kernel, self.scores, stage,
                           self.runtime)
        self.run_epochs(step, frozen_modules(self.model), progress, cached)
        if stage.trains_base:
            self.features = None  # the base changed: cached features no longer describe it

    def run_epochs(self, step: StepContext, frozen: list[torch.nn.Module], progress: StageProgress,
                   cached: bool) -> None:
        stage = step.stage
        iteration, stage_best, stale = 0, math.inf, 0
        for epoch in range(stage.epochs):
            train_mode(self.model, frozen)
            stats, iteration = train_epoch(step, self.train_batches(cached), epoch=epoch, iteration=iteration,
                                           on_batch=functools.partial(progress.train_batch, epoch))
            val_loss = self.val_loss(cached)
            self.record(stage, epoch, stats, val_loss, step.optimizer, cached)
            self.best.offer(self.model, val_loss, stage.name, epoch)
            self.epochs_done += 1
            stage_best, stale = (val_loss, 0) if val_loss < stage_best else (stage_best, stale + 1)
            if self.should_stop(stale):
                log.info("stage %s stops early after epoch %d: no val improvement for %d epochs",
                         stage.name, epoch + 1, stale)
                break

    def should_stop(self, stale_epochs: int) -> bool:
        patience = self.context.options.early_stopping_patience
        return patience is not None and len(self.data.val) > 0 and stale_epochs >= patience

    # -- what an epoch runs ----------------------------------------------------------------------------------
    def train_forward(self, stage: Stage, cached: bool) -> Forward:
        if cached:
            return self.model.head
        if not stage.trains_base:
            return self.head_on_frozen_base
        return self.model

    def head_on_frozen_base(self, pixels: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            features = self.model.features(pixels)
        return self.model.head(features)

    def train_batches(self, cached: bool) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        seed, epoch = self.context.spec.seed, self.epochs_done
        if cached:
            return self.features.train_batches(self.data, self.batch_size, seed=seed, epoch=epoch)
        return image_tensor_batches(self.data, self.data.train, self.batch_size, train=True, seed=seed,
                                    epoch=epoch, device=self.runtime.device,
                                    channels_last=self.runtime.channels_last, prefetch=self.runtime.prefetch)

    def val_loss(self, cached: bool) -> float:
        """The trial's loss (its NumPy reference: the definition) on the val split's centre crops."""
        if not len(self.data.val):
            return math.nan
        self.model.eval()
        if cached:
            batches = ((chunk, None) for chunk in self.features.val.split(self.batch_size))
            predicted = predict(self.model.head, batches, self.runtime, len(self.data.score_values))
        else:
            predicted = self.predict_split(self.data.val)
        targets = self.data.targets[self.data.val.rows]
        return float(np.mean(self.context.loss(predicted, targets, self.data.score_values)))

    def predict_split(self, split: Split) -> np.ndarray:
        self.model.eval()
        batches = image_tensor_batches(self.data, split, self.batch_size, train=False, seed=0, epoch=0,
                                       device=self.runtime.device, channels_last=self.runtime.channels_last,
                                       prefetch=self.runtime.prefetch)
        return predict(self.model, batches, self.runtime, len(self.data.score_values))

    def record(self, stage: Stage, epoch: int, stats: EpochStats, val_loss: float,
               optimizer: torch.optim.Optimizer, cached: bool) -> None:
        self.history.append({
            "stage": stage.name, "epoch": epoch, "train_loss": stats.loss,
            "val_loss": val_loss if math.isfinite(val_loss) else None, "seconds": stats.seconds,
            "images": stats.images, "images_per_second": stats.images_per_second, "features_cached": cached,
            **current_learning_rates(optimizer),
        })

    # -- after training --------------------------------------------------------------------------------------
    def save_best(self) -> Path:
        if self.best.state is None:
            self.best.offer(self.model, math.nan, "none", -1)  # no epoch ran: the built model is the result
        metadata = {
            "backbone": self.context.backbone.name, "model_name": self.model.model_name,
            "num_buckets": len(self.data.score_values), "score_values": self.data.score_values.tolist(),
            "dropout": self.context.options.dropout, "image_size": self.data.image_size,
            "cache_side": self.data.images.policy.size, "trial_id": self.context.spec.trial_id,
        }
        return self.best.save(self.context.artefact_dir / "best.pt", metadata)

    def predict_test(self) -> tuple[np.ndarray, float]:
        started = time.perf_counter()
        predictions = self.predict_split(self.data.test)
        seconds = time.perf_counter() - started
        return predictions, len(self.data.test) / seconds if seconds > 0 else 0.0

    def result(self, predictions: np.ndarray, inference_rate: float, weights_path: Path) -> TrainResult:
        return TrainResult(
            test_image_ids=list(self.data.test.image_ids), test_predictions=predictions, history=self.history,
            parameters=sum(p.numel() for p in self.model.parameters()),
            pretrained=self.model.weights_source is not None,
            features_cached=any(row["features_cached"] for row in self.history),
            train_seconds=self.train_seconds, train_images_per_second=self.train_rate(),
            versions={"torch": torch.__version__, "timm": import_timm().__version__,
                      "nimabench-timm": __version__},
            device=self.runtime.device.type, weights_path=str(weights_path), best=dict(self.best.where),
            extra=self.extra(inference_rate),
        )

    def train_rate(self) -> float:
        """Images/s of the epochs that ran the backbone (cached-feature epochs time only the head)."""
        rows = [row for row in self.history if not row["features_cached"]] or self.history
        seconds = sum(row["seconds"] for row in rows)
        return sum(row["images"] for row in rows) / seconds if seconds > 0 else 0.0

    def extra(self, inference_rate: float) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "weights_source": self.model.weights_source or "random init",
            "runtime": self.runtime.describe(), "malloc": self.runtime.malloc,
            "image_size": self.data.image_size, "cache_side": self.data.images.policy.size,
            "inference_images_per_second": inference_rate,
        }
        if self.runtime.device.type == "cuda":
            extra["gpu"] = torch.cuda.get_device_name(self.runtime.device)
        return extra
