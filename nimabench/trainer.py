"""The Trainer interface: one per framework.

A trainer turns (backbone, loss, schedule, data) into a trained model and test predictions. It runs inside
a child process the runner starts, so it may import its framework freely; TensorFlow and PyTorch never
share a process.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nimabench.backbone import Backbone
from nimabench.dataset import Manifest
from nimabench.loss import Loss
from nimabench.schedule import Stage
from nimabench.trial import TrialSpec


@dataclass(frozen=True)
class RunOptions:
    """How to run a trial; what changes its result is also in ``TrialSpec.overrides``."""

    batch_size: int = 32
    image_size: int | None = None  # network input; None: the backbone's default
    cache_size: int = 256  # the image cache's square size; training crops image_size out of it
    device: str = "auto"  # auto | cpu | cuda
    threads: int | None = None  # CPU threads; None: the framework's default
    weights_dir: Path | None = None
    allow_random_init: bool = False
    early_stopping_patience: int | None = None  # epochs without val improvement before a stage stops
    cache_features: bool = True  # frozen-base stages train the head on cached pooled features
    cache_dir: Path | None = None  # image cache root (default: nimabench.dataset.cache_root())
    dropout: float = 0.75


# progress(event): {"stage": name, "epoch": i, "epochs": n, "batch": j, "batches": m, "loss": x, ...}
ProgressCallback = Callable[[dict[str, Any]], None]


@dataclass
class TrainContext:
    """Everything a trainer needs, resolved by the runner (so trainers never look names up)."""

    spec: TrialSpec
    manifest: Manifest
    backbone: Backbone
    loss: Loss
    stages: tuple[Stage, ...]
    options: RunOptions
    artefact_dir: Path  # where to write weights and other files of this trial
    progress: ProgressCallback = lambda event: None


@dataclass
class TrainResult:
    """What a trial produces; the runner computes metrics from ``test_predictions`` with the core's metrics."""

    test_image_ids: list[str]
    test_predictions: np.ndarray  # (n, buckets) predicted distributions
    history: list[dict[str, Any]] = field(default_factory=list)  # one row per epoch: stage, epoch, losses
    parameters: int = 0
    pretrained: bool = False
    features_cached: bool = False
    train_seconds: float = 0.0
    train_images_per_second: float = 0.0
    versions: dict[str, str] = field(default_factory=dict)  # framework library versions
    device: str = "cpu"
    weights_path: str | None = None  # the best weights, inside the trial's artefact dir
    best: dict[str, Any] = field(default_factory=dict)  # stage, epoch and val loss of the chosen checkpoint
    extra: dict[str, Any] = field(default_factory=dict)  # anything else worth recording (weights source, ...)


def input_size(context: TrainContext) -> int:
    """The network's input side: ``--image-size`` when given, else the backbone's default."""
    return context.options.image_size or context.backbone.input_size()


class Trainer(ABC):
    name: str
    framework: str  # matches Backbone.framework
    description: str = ""

    @abstractmethod
    def available(self) -> bool:
        """Whether the framework can be imported here (checked without importing it)."""

    @abstractmethod
    def train(self, context: TrainContext) -> TrainResult:
        """Train on the train split, choose the best epoch on val, predict the test split."""
