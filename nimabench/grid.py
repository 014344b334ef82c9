"""Expanding a grid of (backbone, loss, schedule, seed) into trial specs, and choosing the dataset."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from nimabench.backbone import resolve_backbone
from nimabench.dataset import TASKS
from nimabench.errors import NimabenchError
from nimabench.plugins import collect
from nimabench.trial import TrialSpec

log = logging.getLogger(__name__)

# Without --dataset, a task uses its real dataset when its files are present, else this fallback.
TASK_DATASETS = {"technical": ("tid2013", "synthetic-tid"), "aesthetic": ("ava", None)}


@dataclass(frozen=True)
class Grid:
    task: str
    dataset: str
    backbones: tuple[str, ...]
    losses: tuple[str, ...] = ("emd",)
    schedules: tuple[str, ...] = ("two-stage",)
    seeds: tuple[int, ...] = (0,)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)

    def trials(self) -> list[TrialSpec]:
        return [
            TrialSpec(task=self.task, dataset=self.dataset, backbone=backbone, loss=loss, schedule=schedule,
                      seed=seed, dataset_options=dict(self.dataset_options), overrides=dict(self.overrides))
            for backbone in self.backbones for loss in self.losses
            for schedule in self.schedules for seed in self.seeds
        ]


def choose_dataset(task: str, dataset: str | None, data_dir) -> str:
    """The dataset named, or the task's default, saying which one was chosen and why."""
    if task not in TASKS:
        raise NimabenchError(f"--task must be one of {', '.join(TASKS)}, got {task!r}")
    registry = collect("dataset")
    if dataset:
        found = registry.get(dataset)
        if found.task != task:
            raise NimabenchError(f"--dataset {dataset} is a {found.task} dataset, not {task}")
        return dataset
    real, fallback = TASK_DATASETS[task]
    real_class = registry.get(real)
    root = data_dir or real_class.default_data_dir()
    if real_class.availability(root) == "present":
        log.info("--task %s: using %s from %s", task, real, root)
        return real
    if fallback is None:
        raise NimabenchError(
            f"--task {task} needs the {real} dataset, which is not in {root}. {real_class.how_to_obtain}"
        )
    log.info("--task %s: %s is not in %s, so using the embedded %s dataset", task, real, root, fallback)
    return fallback


def resolve_names(backbones: list[str], losses: list[str], schedules: list[str]) -> tuple[tuple[str, ...], ...]:
    """Full backbone names (bare aliases resolved) and checked loss and schedule names."""
    backbone_registry = collect("backbone")
    resolved = tuple(resolve_backbone(backbone_registry, name).name for name in backbones)
    loss_registry, schedule_registry = collect("loss"), collect("schedule")
    for name in losses:
        loss_registry.get(name)
    for name in schedules:
        schedule_registry.get(name)
    return resolved, tuple(losses), tuple(schedules)
