"""The ``torch`` trainer: registered without importing torch; training happens in :mod:`.training`."""

from __future__ import annotations

import importlib.util

from nimabench.trainer import TrainContext, Trainer, TrainResult


class TorchTrainer(Trainer):
    name = "torch"
    framework = "torch"
    description = ("PyTorch: timm backbones with the NIMA head; bf16 + channels-last on CUDA, "
                   "channels-last + tuned malloc on CPU; frozen-base stages train on cached features")

    def available(self) -> bool:
        return all(importlib.util.find_spec(module) is not None for module in ("torch", "timm"))

    def train(self, context: TrainContext) -> TrainResult:
        from nimabench_timm.training import train_trial

        return train_trial(context)
