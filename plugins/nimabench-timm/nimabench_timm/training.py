"""A whole trial in PyTorch: stages in order, the best epoch on val, test predictions from the best weights.

The stage loop is the core's :class:`nimabench.staged_training.StagedTrial` (the Keras trainer's too): per
stage, set what trains (:mod:`nimabench_timm.blocks`), make its optimiser (:mod:`nimabench_timm.optim`),
then train epoch by epoch - on cached features when only the head trains and ``cache_features`` is on
(:mod:`nimabench_timm.features`), else on augmented pixels - scoring the val split after each epoch and
stopping the stage early after ``early_stopping_patience`` epochs without a val improvement. This module
supplies its PyTorch parts. Everything
random is seeded from the trial's seed: torch's generator (head init, dropout), and the per-epoch
shuffles, crops, flips and feature views through the core's ``(seed, epoch)`` streams, with epochs
counted across stages so no two epochs of a trial repeat an order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nimabench.epochs import BatchCallback, EpochStats
from nimabench.pretrained import pretrained_weights
from nimabench.schedule import Stage
from nimabench.staged_training import FeatureProgress, StagedTrial
from nimabench.trainer import TrainContext, TrainResult, input_size
from nimabench.trial_data import Split, TrialData, load_trial_data
from nimabench_timm import __version__
from nimabench_timm.blocks import frozen_modules, set_trainable, train_mode
from nimabench_timm.checkpoint import BestCheckpoint
from nimabench_timm.data import image_tensor_batches
from nimabench_timm.features import VIEWS, CachedFeatures, extract_features
from nimabench_timm.loop import Forward, StepContext, predict, train_epoch
from nimabench_timm.model import NimaModel
from nimabench_timm.optim import current_learning_rates, make_optimizer
from nimabench_timm.runtime import Runtime, setup_runtime
from nimabench_timm.timm_import import import_timm

log = logging.getLogger(__name__)


def train_trial(context: TrainContext) -> TrainResult:
    options = context.options
    runtime = setup_runtime(options.device, threads=options.threads, seed=context.spec.seed)
    pretrained = pretrained_weights(context.backbone, options) is not None
    model = context.backbone.build(num_buckets=len(context.manifest.score_values), pretrained=pretrained,
                                   weights_dir=options.weights_dir, dropout=options.dropout)
    model = model.to(runtime.device, memory_format=runtime.memory_format)
    data = load_trial_data(context.manifest, input_size(context), options.cache_size, options.cache_dir)
    return TrialRun(context, runtime, model, data).run()


class TrialRun(StagedTrial):
    def __init__(self, context: TrainContext, runtime: Runtime, model: NimaModel, data: TrialData):
        super().__init__(context, data)
        self.runtime = runtime
        self.model = model
        self.checkpoint = BestCheckpoint()
        self.features: CachedFeatures | None = None  # valid while the base is unchanged
        self.kernel = context.loss.kernel("torch")
        self.scores = torch.as_tensor(data.score_values, dtype=torch.float32, device=runtime.device)
        self.step: StepContext | None = None
        self.frozen: list[torch.nn.Module] = []  # modules train mode leaves in eval mode

    # -- the trial -------------------------------------------------------------------------------------------
    def run(self) -> TrainResult:
        self.run_stages()
        self.keep_built_model_if_no_epoch_ran()
        self.checkpoint.restore(self.model)
        weights_path = self.save_best()
        predictions, inference_rate = self.predict_test()
        return self.result(predictions, inference_rate, weights_path)

    # -- StagedTrial's framework parts -----------------------------------------------------------------------
    def begin_stage(self, stage: Stage, cached: bool) -> None:
        trainable = set_trainable(self.model, stage.trainable)
        if stage.trains_base:
            self.features = None  # the base will change: free the features that no longer describe it
        optimizer = make_optimizer(stage, trainable.head, trainable.base)
        self.step = StepContext(self.train_forward(stage, cached), optimizer, self.kernel, self.scores, stage,
                                self.runtime)
        self.frozen = frozen_modules(self.model)

    def extract_features(self, progress: FeatureProgress) -> None:
        views = int(self.context.spec.overrides.get("feature_views", VIEWS))
        self.features = extract_features(self.model, self.data, self.runtime, self.batch_size, progress, views)

    def train_epoch(self, stage: Stage, cached: bool, epoch: int, iteration: int,
                    on_batch: BatchCallback) -> tuple[EpochStats, int]:
        train_mode(self.model, self.frozen)
        return train_epoch(self.step, self.train_batches(cached), epoch=epoch, iteration=iteration,
                           on_batch=on_batch)

    def predict_val(self, cached: bool) -> np.ndarray:
        self.model.eval()
        if cached:
            batches = ((chunk, None) for chunk in self.features.val.split(self.batch_size))
            return predict(self.model.head, batches, self.runtime, len(self.data.score_values))
        return self.predict_split(self.data.val)

    def keep_best(self) -> None:
        self.checkpoint.keep(self.model)

    def learning_rates(self) -> dict[str, float]:
        return current_learning_rates(self.step.optimizer)

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

    def predict_split(self, split: Split) -> np.ndarray:
        self.model.eval()
        batches = image_tensor_batches(self.data, split, self.batch_size, train=False, seed=0, epoch=0,
                                       device=self.runtime.device, channels_last=self.runtime.channels_last,
                                       prefetch=self.runtime.prefetch)
        return predict(self.model, batches, self.runtime, len(self.data.score_values))

    # -- after training --------------------------------------------------------------------------------------
    def save_best(self) -> Path:
        metadata = {
            "backbone": self.context.backbone.name, "model_name": self.model.model_name,
            "num_buckets": len(self.data.score_values), "score_values": self.data.score_values.tolist(),
            "dropout": self.context.options.dropout, "image_size": self.data.image_size,
            "cache_side": self.data.images.policy.size, "trial_id": self.context.spec.trial_id,
        }
        return self.checkpoint.save(self.context.artefact_dir / "best.pt", self.best.where, metadata)

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
            features_cached=self.features_cached,
            train_seconds=self.train_seconds, train_images_per_second=self.train_rate(),
            versions={"torch": torch.__version__, "timm": import_timm().__version__,
                      "nimabench-timm": __version__},
            device=self.runtime.device.type, weights_path=str(weights_path), best=dict(self.best.where),
            extra=self.extra(inference_rate),
        )

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
