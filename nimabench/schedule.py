"""The Schedule interface: framework-neutral fine-tuning stages.

A schedule is an ordered list of stages. Each stage says how many epochs to train, what is trainable
('head', 'all', or the top N blocks of the backbone), the optimiser, the head's and the base's learning rates
and how they decay. Trainers implement the semantics; :func:`learning_rate` is the one place the decay rule
is computed, so both frameworks agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from nimabench.errors import NimabenchError

OPTIMIZERS = ("adam", "adamw", "sgd")
DECAYS = ("none", "step", "inverse-time")


@dataclass(frozen=True)
class Stage:
    name: str
    epochs: int
    trainable: str | int  # 'head', 'all', or the number of top backbone blocks to unfreeze (plus the head)
    optimizer: str = "adam"
    head_lr: float = 1e-3
    base_lr: float = 0.0  # unused when only the head trains
    momentum: float = 0.9  # sgd only
    weight_decay: float = 0.0
    decay: str = "none"
    # step: multiply by decay_rate every decay_every epochs; inverse-time: lr / (1 + decay_rate * iteration),
    # Keras 2's `decay` argument, which idealo's stage 2 used.
    decay_rate: float = 0.0
    decay_every: int = 1

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise NimabenchError(f"stage {self.name!r}: optimizer {self.optimizer!r} is not one of {OPTIMIZERS}")
        if self.decay not in DECAYS:
            raise NimabenchError(f"stage {self.name!r}: decay {self.decay!r} is not one of {DECAYS}")
        if isinstance(self.trainable, str) and self.trainable not in ("head", "all"):
            raise NimabenchError(f"stage {self.name!r}: trainable must be 'head', 'all' or a block count")
        if isinstance(self.trainable, int) and self.trainable < 1:
            raise NimabenchError(f"stage {self.name!r}: trainable block count must be >= 1")
        if self.epochs < 0:
            raise NimabenchError(f"stage {self.name!r}: epochs must be >= 0")

    @property
    def trains_base(self) -> bool:
        return self.trainable != "head"


def learning_rate(initial: float, stage: Stage, epoch: int, iteration: int) -> float:
    """The learning rate at ``epoch`` (0-based, within the stage) and ``iteration`` (optimizer steps so far)."""
    if stage.decay == "step":
        return initial * stage.decay_rate ** (epoch // stage.decay_every)
    if stage.decay == "inverse-time":
        return initial / (1.0 + stage.decay_rate * iteration)
    return initial


@dataclass(frozen=True)
class Schedule:
    name: str
    description: str
    stages: tuple[Stage, ...]
    # Some recipes differ by task (idealo trains TID2013 longer than AVA): task -> stages.
    task_stages: Mapping[str, tuple[Stage, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def stages_for(self, task: str, epochs: int | None = None) -> tuple[Stage, ...]:
        """The stages for ``task``; ``epochs`` (the quick-run override) sets every stage's epoch count."""
        stages = self.task_stages.get(task, self.stages)
        if epochs is not None:
            if epochs < 1:
                raise NimabenchError(f"--epochs must be >= 1, got {epochs}")
            stages = tuple(replace(stage, epochs=epochs) for stage in stages)
        return stages

    def summary(self, task: str | None = None) -> str:
        return "; ".join(
            f"{s.name}: {s.epochs} ep, {s.trainable}, {s.optimizer} lr {_rates(s)}"
            for s in (self.stages_for(task) if task else self.stages)
        )


def _rates(stage: Stage) -> str:
    return f"{stage.head_lr:g}" if not stage.trains_base else f"head {stage.head_lr:g} / base {stage.base_lr:g}"
