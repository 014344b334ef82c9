"""A stage's optimisers: one for the head and one for the base, each with its own learning rate.

Keras has no per-variable learning rates, and scaling gradients cannot stand in for one with Adam (Adam is
invariant to the gradient's scale), so a stage that trains the base gets a second optimiser of the same
kind. The decay rule lives in the core (:func:`nimabench.schedule.learning_rate`), as in the PyTorch
trainer; this module writes its value into each optimiser before each step, with ``iteration`` counting the
stage's own steps. Weight decay follows PyTorch, so the two trainers mean the same by it: L2 added to the
gradient for SGD and Adam, decoupled for AdamW (Keras's AdamW decays exactly as PyTorch's).

Known second-order differences from PyTorch: Keras's SGD keeps ``lr * gradient`` in its momentum buffer
(PyTorch keeps the gradient, and scales by the current rate), which differs only while the rate changes;
Keras adds Adam's epsilon before the bias correction of the second moment, so epsilon (1e-8, PyTorch's
default) weighs a little more in the first steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nimabench.schedule import Stage, learning_rate

ADAM_EPSILON = 1e-8  # PyTorch's default (Keras's is 1e-7)


@dataclass
class StageOptimizer:
    """One optimiser over one group of variables, with that group's initial learning rate."""

    name: str  # "head" | "base"
    optimizer: Any  # a keras.optimizers.Optimizer
    variables: list[Any]
    initial_lr: float
    l2: float  # coupled weight decay, added to the gradient (0 for AdamW, whose decay is decoupled)

    def set_learning_rate(self, stage: Stage, epoch: int, iteration: int) -> float:
        value = learning_rate(self.initial_lr, stage, epoch, iteration)
        self.optimizer.learning_rate = value
        return value


def make_optimizer(stage: Stage, initial_lr: float):
    import keras

    if stage.optimizer == "sgd":
        return keras.optimizers.SGD(initial_lr, momentum=stage.momentum)
    if stage.optimizer == "adamw":
        return keras.optimizers.AdamW(initial_lr, weight_decay=stage.weight_decay, epsilon=ADAM_EPSILON)
    return keras.optimizers.Adam(initial_lr, epsilon=ADAM_EPSILON)


def stage_optimizers(stage: Stage, head: list[Any], base: list[Any]) -> list[StageOptimizer]:
    """The head's optimiser, and the base's when the stage trains any of it; built, so a step can trace."""
    l2 = 0.0 if stage.optimizer == "adamw" else stage.weight_decay
    groups = [("head", head, stage.head_lr)] + ([("base", base, stage.base_lr)] if base else [])
    optimizers = []
    for name, variables, initial_lr in groups:
        optimizer = make_optimizer(stage, initial_lr)
        optimizer.build(variables)
        optimizers.append(StageOptimizer(name, optimizer, variables, initial_lr, l2))
    return optimizers


def current_learning_rates(optimizers: list[StageOptimizer]) -> dict[str, float]:
    return {f"lr_{group.name}": float(group.optimizer.learning_rate.numpy()) for group in optimizers}
