"""The ``keras`` trainer: registered without importing TensorFlow; training happens in :mod:`.training`."""

from __future__ import annotations

from nimabench.trainer import TrainContext, Trainer, TrainResult
from nimabench_keras.backbones import framework_installed


class KerasTrainer(Trainer):
    name = "keras"
    framework = "keras"
    description = ("Keras 3 on TensorFlow: keras.applications backbones with the NIMA head; tf.data over the "
                   "image cache, bf16 + XLA on a GPU, frozen-base stages train on cached features")

    def available(self) -> bool:
        return framework_installed()

    def train(self, context: TrainContext) -> TrainResult:
        from nimabench_keras.training import train_trial

        return train_trial(context)
