"""A stage's optimiser: separate head and base learning rates as parameter groups, decayed every step.

The decay rule lives in the core (:func:`nimabench.schedule.learning_rate`) so both frameworks agree; this
module only writes its value into each group before each optimiser step. ``iteration`` counts the stage's
own steps, as Keras 2's ``decay`` counted the steps of the optimiser a stage compiles. Weight decay is
PyTorch's: L2 added to the gradient for SGD and Adam, decoupled for AdamW.
"""

from __future__ import annotations

import torch
from torch import nn

from nimabench.schedule import Stage, learning_rate


def make_optimizer(stage: Stage, head: list[nn.Parameter], base: list[nn.Parameter]) -> torch.optim.Optimizer:
    groups = [{"params": head, "lr": stage.head_lr, "initial_lr": stage.head_lr, "name": "head"}]
    if base:
        groups.append({"params": base, "lr": stage.base_lr, "initial_lr": stage.base_lr, "name": "base"})
    if stage.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=stage.head_lr, momentum=stage.momentum,
                               weight_decay=stage.weight_decay)
    if stage.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=stage.head_lr, weight_decay=stage.weight_decay)
    return torch.optim.Adam(groups, lr=stage.head_lr, weight_decay=stage.weight_decay)


def apply_learning_rates(optimizer: torch.optim.Optimizer, stage: Stage, epoch: int, iteration: int) -> None:
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(group["initial_lr"], stage, epoch, iteration)


def current_learning_rates(optimizer: torch.optim.Optimizer) -> dict[str, float]:
    return {f"lr_{group['name']}": float(group["lr"]) for group in optimizer.param_groups}
