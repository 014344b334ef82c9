"""A whole trial in Keras: stages in order, the best epoch on val, test predictions from the best weights.

The stage loop is the core's :class:`nimabench.staged_training.StagedTrial` (the PyTorch trainer's too);
this module supplies its TensorFlow parts: what trains (:mod:`.trainable`), the optimisers (:mod:`.optim`), the
compiled step and prediction (:mod:`.loop`), tf.data over the image cache (:mod:`.pipeline`) and the
frozen-base feature cache (:mod:`.features`). Everything random is seeded from the trial's seed: Keras's
generators (head init, dropout) through ``keras.utils.set_random_seed``, and the per-epoch shuffles, crops,
flips and feature views through the core's ``(seed, epoch)`` streams.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from nimabench.epochs import BatchCallback, EpochStats
from nimabench.pretrained import pretrained_weights
from nimabench.schedule import Stage
from nimabench.staged_training import FeatureProgress, StagedTrial
from nimabench.trainer import TrainContext, TrainResult, input_size
from nimabench.trial_data import Split, TrialData, load_trial_data, numpy_batches
from nimabench_keras import __version__
from nimabench_keras.batchnorm import CALIBRATION_BATCHES, calibrate_batch_norm
from nimabench_keras.catalogue import BLOCK_PATTERNS
from nimabench_keras.checkpoint import WeightsSnapshot, save_checkpoint
from nimabench_keras.features import CachedFeatures, extract_features
from nimabench_keras.loop import make_predictor, make_train_step, predict, train_epoch
from nimabench_keras.model import NimaKerasModel
from nimabench_keras.optim import StageOptimizer, current_learning_rates, stage_optimizers
from nimabench_keras.pipeline import EpochStream
from nimabench_keras.runtime import KerasRuntime, setup_runtime
from nimabench_keras.trainable import set_trainable
from nimabench_keras.weights import missing_weights_message

log = logging.getLogger(__name__)


def train_trial(context: TrainContext) -> TrainResult:
    options = context.options
    runtime = setup_runtime(options.device, threads=options.threads, seed=context.spec.seed)
    weights_path = pretrained_weights(context.backbone, options, missing_weights_message)
    size = input_size(context)
    parts = context.backbone.build_parts(num_buckets=len(context.manifest.score_values), weights_path=weights_path,
                                         dropout=options.dropout, input_size=size)
    data = load_trial_data(context.manifest, size, options.cache_size, options.cache_dir)
    return KerasTrialRun(context, data, runtime, parts, weights_path).run()


class KerasTrialRun(StagedTrial):
    def __init__(self, context: TrainContext, data: TrialData, runtime: KerasRuntime, parts: NimaKerasModel,
                 weights_source: str | None):
        super().__init__(context, data)
        self.runtime = runtime
        self.parts = parts
        self.weights_source = weights_source
        self.kernel = context.loss.kernel("keras")
        self.buckets = len(data.score_values)
        self.block_pattern = BLOCK_PATTERNS[context.backbone.catalogue_entry.family]
        self.features: CachedFeatures | None = None
        self.best_weights: WeightsSnapshot | None = None
        self.optimizers: list[StageOptimizer] = []
        self.step = None
        self.calibrated_batches = 0  # BatchNorm statistics estimated from this many batches (random init only)
        self.stream: EpochStream | None = None  # the stage's training batches, when it reads pixels
        self.predict_pixels = make_predictor(lambda x: parts.model(x, training=False), runtime.jit_compile)
        self.predict_features = make_predictor(lambda f: parts.head(f, training=False), runtime.jit_compile)

    def run(self) -> TrainResult:
        if self.weights_source is None:
            self.calibrated_batches = calibrate_batch_norm(self.parts.features, self.parts.base,
                                                           self.calibration_batches())
        self.run_stages()
        self.stream = None
        self.keep_built_model_if_no_epoch_ran()
        self.best_weights.restore(self.parts.model)
        weights_path = save_checkpoint(self.parts.model, self.context.artefact_dir, self.metadata())
        started = time.perf_counter()
        predictions = self.predict_split(self.data.test)
        seconds = time.perf_counter() - started
        return self.result(predictions, len(self.data.test) / seconds if seconds > 0 else 0.0, str(weights_path))

    # -- StagedTrial's framework parts ----------------------------------------------------------------------------
    def begin_stage(self, stage: Stage, cached: bool) -> None:
        trainable = set_trainable(self.parts, self.block_pattern, stage.trainable)
        self.optimizers = stage_optimizers(stage, trainable.head, trainable.base)
        self.step = make_train_step(self.train_forward(stage, cached), self.kernel, self.data.score_values,
                                    self.optimizers, self.runtime.jit_compile)
        self.stream = None if cached else EpochStream(self.train_epoch_batches, self.epochs_done,
                                                      self.data.image_size, self.buckets)
        log.info("stage %s: %d of %d backbone blocks train%s", stage.name, trainable.blocks_trained,
                 trainable.blocks_total, " (on cached features)" if cached else "")

    def extract_features(self, progress: FeatureProgress) -> None:
        extract = make_predictor(lambda x: self.parts.features(x, training=False), self.runtime.jit_compile)
        self.features = extract_features(extract, self.data, self.batch_size,
                                         self.context.backbone.catalogue_entry.feature_width, progress)

    def train_epoch(self, stage: Stage, cached: bool, epoch: int, iteration: int,
                    on_batch: BatchCallback) -> tuple[EpochStats, int]:
        return train_epoch(self.step, self.train_batches(cached), self.optimizers, stage, epoch=epoch,
                           iteration=iteration, on_batch=on_batch)

    def predict_val(self, cached: bool) -> np.ndarray:
        if cached:
            chunks = [(self.features.val[i:i + self.batch_size], None)
                      for i in range(0, len(self.features.val), self.batch_size)]
            return predict(self.predict_features, chunks, self.buckets)
        return self.predict_split(self.data.val)

    def keep_best(self) -> None:
        self.best_weights = WeightsSnapshot.of(self.parts.model)

    def learning_rates(self) -> dict[str, float]:
        return current_learning_rates(self.optimizers)

    # -- what an epoch runs -------------------------------------------------------------------------------------
    def train_forward(self, stage: Stage, cached: bool):
        parts = self.parts
        if cached:
            return lambda features: parts.head(features, training=True)
        if not stage.trains_base:
            return lambda pixels: parts.head(tf.stop_gradient(parts.features(pixels, training=False)),
                                             training=True)
        return lambda pixels: parts.model(pixels, training=True)

    def train_batches(self, cached: bool):
        if cached:
            return self.features.train_batches(self.data, self.batch_size, seed=self.context.spec.seed,
                                               epoch=self.epochs_done)
        return self.stream.next_epoch(self.data.train_batch_count(self.batch_size))

    def train_epoch_batches(self, epoch: int):
        """Epoch ``epoch`` of the train split: shuffled, randomly cropped and flipped, seeded by (seed, epoch)."""
        return numpy_batches(self.data, self.data.train, self.batch_size, train=True, seed=self.context.spec.seed,
                             epoch=epoch)

    def calibration_batches(self):
        """The first training batches' centre crops: the images a random-init BatchNorm learns its statistics on."""
        batches = numpy_batches(self.data, self.data.train, self.batch_size, train=False, seed=0, epoch=0)
        return itertools.islice((pixels for pixels, _ in batches if len(pixels) > 1), CALIBRATION_BATCHES)

    def predict_split(self, split: Split) -> np.ndarray:
        """Centre crops straight from the cache: no augmentation to overlap, so no pipeline to set up."""
        batches = numpy_batches(self.data, split, self.batch_size, train=False, seed=0, epoch=0)
        return predict(self.predict_pixels, batches, self.buckets)

    # -- after training -----------------------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        entry = self.context.backbone.catalogue_entry
        return {
            "backbone": self.context.backbone.name, "snake_name": entry.snake_name,
            "num_buckets": self.buckets, "score_values": self.data.score_values.tolist(),
            "dropout": self.context.options.dropout, "image_size": self.data.image_size,
            "cache_side": self.data.images.policy.size, "trial_id": self.context.spec.trial_id,
            "best": self.best.where,
        }

    def result(self, predictions: np.ndarray, inference_rate: float, weights_path: str) -> TrainResult:
        return TrainResult(
            test_image_ids=list(self.data.test.image_ids), test_predictions=predictions, history=self.history,
            parameters=int(self.parts.model.count_params()), pretrained=self.weights_source is not None,
            features_cached=self.features_cached,
            train_seconds=self.train_seconds, train_images_per_second=self.train_rate(),
            versions={"tensorflow": tf.__version__, "keras": keras.__version__, "nimabench-keras": __version__},
            device=self.runtime.device, weights_path=weights_path, best=dict(self.best.where),
            extra=self.extra(inference_rate),
        )

    def extra(self, inference_rate: float) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "weights_source": self.weights_source or "random init", "runtime": self.runtime.describe(),
            "image_size": self.data.image_size, "cache_side": self.data.images.policy.size,
            "inference_images_per_second": inference_rate,
        }
        if self.features is not None:
            extra["feature_cache_seconds"] = self.features.seconds
        if self.calibrated_batches:
            extra["batchnorm_calibration_batches"] = self.calibrated_batches
        if self.runtime.device == "cuda":
            gpus = tf.config.list_physical_devices("GPU")
            extra["gpu"] = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "gpu")
        return extra

