"""Rows for ``nimabench list``: what each plugin registered, described without importing any framework."""

from __future__ import annotations

from typing import Any

from nimabench.backbone import alias_claimants
from nimabench.plugins import collect, registered_plugins

LIST_KINDS = ("backbones", "losses", "schedules", "datasets", "trainers", "plugins")


def list_rows(kind: str) -> list[dict[str, Any]]:
    if kind == "plugins":
        return registered_plugins()
    return ROW_BUILDERS[kind]()


def _backbone_rows() -> list[dict[str, Any]]:
    registry = collect("backbone")
    claims = alias_claimants(registry)
    rows = []
    for entry in registry:
        backbone = entry.obj
        aliases = [
            alias if claims[alias][0].name == entry.name else f"{alias} (loses to {claims[alias][0].name})"
            for alias in backbone.aliases
        ]
        rows.append({
            "name": entry.name, "framework": backbone.framework, "plugin": entry.plugin,
            "description": backbone.description, "input size": backbone.default_input_size,
            "aliases": ", ".join(aliases), "availability": backbone.availability(),
        })
    return rows


def _loss_rows() -> list[dict[str, Any]]:
    return [
        {"name": e.name, "framework": ", ".join(sorted(e.obj.kernels)) or "numpy only",
         "plugin": e.plugin, "description": e.obj.description,
         "availability": "trainable" if e.obj.kernels else "reference only (no framework kernel)"}
        for e in collect("loss")
    ]


def _schedule_rows() -> list[dict[str, Any]]:
    return [
        {"name": e.name, "framework": "any", "plugin": e.plugin, "description": e.obj.description,
         "stages": e.obj.summary(), "availability": "yes"}
        for e in collect("schedule")
    ]


def _dataset_rows() -> list[dict[str, Any]]:
    return [
        {"name": e.name, "framework": "any", "plugin": e.plugin, "task": e.obj.task,
         "description": e.obj.description, "availability": e.obj.availability()}
        for e in collect("dataset")
    ]


def _trainer_rows() -> list[dict[str, Any]]:
    return [
        {"name": e.name, "framework": e.obj.framework, "plugin": e.plugin, "description": e.obj.description,
         "availability": "yes" if e.obj.available() else f"{e.obj.framework} not installed"}
        for e in collect("trainer")
    ]


ROW_BUILDERS = {
    "backbones": _backbone_rows,
    "losses": _loss_rows,
    "schedules": _schedule_rows,
    "datasets": _dataset_rows,
    "trainers": _trainer_rows,
}
