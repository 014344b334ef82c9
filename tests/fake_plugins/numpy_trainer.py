"""A NumPy "framework" for the core's runner tests: a hand-crafted-feature regressor, no deep learning.

Backbone ``numpy:features`` computes a few image statistics (brightness, contrast, sharpness) from the core
image cache and fits ridge regression from them to the rating distribution. It trains in a second, so runner
tests can exercise real trials - cache, predictions, metrics, store - without TensorFlow or PyTorch.
Backbones ``numpy:raises``, ``numpy:nan`` and ``numpy:crash`` fail in the three ways a real trial can.
``NUMPY_TRAINER_SECONDS`` makes each epoch sleep, for the kill-and-resume test.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

import numpy as np

from nimabench import hookimpl
from nimabench.backbone import Backbone, WeightsLookup
from nimabench.imagecache import ResizePolicy, build_image_cache
from nimabench.trainer import TrainContext, Trainer, TrainResult


@dataclass(frozen=True)
class NumpyBackbone(Backbone):
    framework = "numpy"

    def framework_available(self) -> bool:
        return True

    def find_pretrained(self, weights_dir=None) -> WeightsLookup:
        return WeightsLookup(found="built in")

    def build(self, **kwargs):
        return None


def image_features(images: np.ndarray) -> np.ndarray:
    grey = images.astype(np.float32).mean(axis=-1) / 255.0
    sharpness = np.abs(np.diff(grey, axis=1)).mean(axis=(1, 2)) + np.abs(np.diff(grey, axis=2)).mean(axis=(1, 2))
    return np.stack([np.ones(len(grey)), grey.mean(axis=(1, 2)), grey.std(axis=(1, 2)), sharpness], axis=1)


class NumpyTrainer(Trainer):
    name = "numpy"
    framework = "numpy"
    description = "ridge regression on image statistics (tests only)"

    def available(self) -> bool:
        return True

    def train(self, context: TrainContext) -> TrainResult:
        started = time.perf_counter()
        manifest, backbone = context.manifest, context.backbone.name
        cache = build_image_cache(manifest, ResizePolicy(size=32), cache_dir=context.options.cache_dir,
                                  progress=False)
        train, test = manifest.split("train"), manifest.split("test")
        features = image_features(np.asarray(cache.array[cache.rows(list(train["image_id"]))]))
        targets = manifest.distributions(train)
        history = []
        for stage in context.stages:
            for epoch in range(stage.epochs):
                time.sleep(float(os.environ.get("NUMPY_TRAINER_SECONDS", "0")))
                context.progress({"stage": stage.name, "epoch": epoch, "epochs": stage.epochs, "batch": 1,
                                  "batches": 1, "loss": 0.1})
                loss = 0.1 / (epoch + 1) if backbone != "numpy:nan" else float("nan")
                if not np.isfinite(loss):
                    raise FloatingPointError(f"the training loss is {loss} in stage {stage.name} epoch {epoch}")
                history.append({"stage": stage.name, "epoch": epoch, "train_loss": loss, "val_loss": loss})
        if backbone == "numpy:raises":
            raise RuntimeError("this backbone always fails")
        if backbone == "numpy:crash":
            os.kill(os.getpid(), signal.SIGKILL)
        weights = np.linalg.solve(features.T @ features + 1e-3 * np.eye(features.shape[1]), features.T @ targets)
        test_features = image_features(np.asarray(cache.array[cache.rows(list(test["image_id"]))]))
        predictions = np.clip(test_features @ weights, 1e-6, None)
        predictions /= predictions.sum(axis=1, keepdims=True)
        return TrainResult(
            test_image_ids=list(test["image_id"]), test_predictions=predictions, history=history,
            parameters=weights.size, pretrained=True, train_seconds=time.perf_counter() - started,
            train_images_per_second=len(train) / max(time.perf_counter() - started, 1e-9),
            versions={"numpy": np.__version__},
        )


@hookimpl
def register_backbones(register):
    for name in ("features", "raises", "nan", "crash"):
        register(NumpyBackbone(f"numpy:{name}", description="image statistics + ridge regression"))


@hookimpl
def register_trainers(register):
    register(NumpyTrainer())
