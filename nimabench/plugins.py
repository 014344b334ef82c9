"""The plugin manager: built-in plugins, entry-point plugins, and the registries they fill.

Built-in plugins are modules of this package listed in DEFAULT_PLUGINS. Third-party plugins (the
first-party keras and timm plugins too) are distributions with an entry point in the ``nimabench`` group.
``NIMABENCH_LOAD_PLUGINS`` - a comma-separated list of distribution names, or empty for none - limits which
of those load, as in llm and datasette. ``NIMABENCH_PLUGIN_MODULES`` - a comma-separated list of importable
module names - registers plugin modules that are not packaged (while developing one, and in tests, where the
runner's child processes must see the same plugins as the parent).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import sys
from collections.abc import Callable
from typing import Any

import pluggy

from nimabench import hookspecs
from nimabench.registry import Registry

DEFAULT_PLUGINS = (
    "nimabench.losses",
    "nimabench.schedules",
    "nimabench.datasets.ava",
    "nimabench.datasets.tid2013",
    "nimabench.datasets.koniq10k",
    "nimabench.datasets.kadid10k",
    "nimabench.datasets.spaq",
    "nimabench.datasets.livec",
    "nimabench.datasets.csv_dataset",
    "nimabench.datasets.synthetic_tid",
)

# kind -> the hook that fills it
KINDS = {
    "backbone": "register_backbones",
    "loss": "register_losses",
    "schedule": "register_schedules",
    "dataset": "register_datasets",
    "trainer": "register_trainers",
}

pm = pluggy.PluginManager("nimabench")
pm.add_hookspecs(hookspecs)
_loaded = False


def load_plugins() -> pluggy.PluginManager:
    """Register the built-in plugins and the installed ones (once); returns the plugin manager."""
    global _loaded
    if _loaded:
        return pm
    _loaded = True
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    for module_name in _split_env("NIMABENCH_PLUGIN_MODULES"):
        pm.register(importlib.import_module(module_name), name=module_name)
    allowed = os.environ.get("NIMABENCH_LOAD_PLUGINS")
    if allowed is None:
        pm.load_setuptools_entrypoints("nimabench")
    else:
        _load_named_distributions(_split_env("NIMABENCH_LOAD_PLUGINS"))
    return pm


def _split_env(variable: str) -> list[str]:
    return [part.strip() for part in os.environ.get(variable, "").split(",") if part.strip()]


def _load_named_distributions(names: list[str]) -> None:
    """Load the ``nimabench`` entry points of the named distributions only."""
    for name in names:
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            sys.stderr.write(f"nimabench: NIMABENCH_LOAD_PLUGINS names {name!r}, which is not installed\n")
            continue
        for entry_point in distribution.entry_points:
            if entry_point.group == "nimabench" and pm.get_plugin(entry_point.name) is None:
                pm.register(entry_point.load(), name=entry_point.name)


def plugin_name(plugin: object) -> str:
    return pm.get_name(plugin) or repr(plugin)


class Registrar:
    """The ``register`` callback a hook receives; binds what it registers to the calling plugin."""

    def __init__(self, registry: Registry, plugin: str):
        self.registry = registry
        self.plugin = plugin

    def __call__(self, obj: Any, name: str | None = None) -> None:
        self.registry.add(name or obj.name, obj, self.plugin)


class LossRegistrar(Registrar):
    """Adds ``register.kernel(loss_name, framework, factory)`` for per-framework loss kernels."""

    def __init__(self, registry: Registry, plugin: str, kernels: Registry):
        super().__init__(registry, plugin)
        self.kernels = kernels

    def kernel(self, loss_name: str, framework: str, factory: Callable[[], Callable]) -> None:
        self.kernels.add(f"{loss_name}/{framework}", factory, self.plugin)


def collect(kind: str) -> Registry:
    """Build the registry of one kind by calling every plugin's hook with a register callback.

    Rebuilt on each call (it is cheap: hooks only construct light objects), so a plugin registered or
    unregistered at run time - as the tests do - is seen at once.
    """
    load_plugins()
    registry = Registry(kind)
    kernels = Registry("loss kernel") if kind == "loss" else None
    for impl in getattr(pm.hook, KINDS[kind]).get_hookimpls():  # registration order (pluggy calls LIFO)
        registrar = (
            LossRegistrar(registry, impl.plugin_name, kernels) if kernels is not None
            else Registrar(registry, impl.plugin_name)
        )
        impl.function(register=registrar)
    if kernels is not None:
        _attach_kernels(registry, kernels)
    return registry


def _attach_kernels(losses: Registry, kernels: Registry) -> None:
    """Give each loss the kernels plugins registered for it; a kernel for no known loss is an error."""
    for entry in kernels:
        loss_name, framework = entry.name.rsplit("/", 1)
        loss_entry = losses.entry(loss_name)
        losses.replace(loss_name, loss_entry.obj.with_kernel(framework, entry.obj, entry.plugin))


def registered_plugins() -> list[dict[str, Any]]:
    """One row per registered plugin: name, hooks it implements, and its distribution version if any."""
    load_plugins()
    distributions = {plugin: dist for plugin, dist in pm.list_plugin_distinfo()}
    rows = []
    for plugin in pm.get_plugins():
        dist = distributions.get(plugin)
        rows.append({
            "name": plugin_name(plugin),
            "hooks": sorted(caller.name for caller in pm.get_hookcallers(plugin) or []),
            "distribution": dist.metadata["name"] if dist else None,
            "version": dist.version if dist else None,
        })
    return sorted(rows, key=lambda row: row["name"])
