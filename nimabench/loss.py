"""The Loss interface: a name, a NumPy reference, and one kernel per framework.

A loss compares predicted and target rating distributions, (n, buckets) probabilities, and returns one value
per sample; trainers average over the batch. The NumPy reference is the definition: every framework kernel
must agree with it (each framework plugin tests its kernels against it). Kernels are registered by framework
plugins through ``register.kernel(loss_name, framework, factory)``; ``factory()`` imports the framework and
returns ``kernel(pred, target, score_values) -> per-sample losses`` in that framework's tensors.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from nimabench.errors import NimabenchError

Reference = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
KernelFactory = Callable[[], Callable]


def lazy_kernel(module: str, loss_name: str) -> KernelFactory:
    """A factory returning ``module.KERNELS[loss_name]``, importing ``module`` (and its framework) only when
    called, so registering a framework's kernels never imports the framework."""

    def factory() -> Callable:
        return importlib.import_module(module).KERNELS[loss_name]

    return factory


@dataclass(frozen=True)
class KernelEntry:
    factory: KernelFactory
    plugin: str


@dataclass(frozen=True)
class Loss:
    name: str
    description: str
    reference: Reference
    kernels: Mapping[str, KernelEntry] = field(default_factory=lambda: MappingProxyType({}))

    def with_kernel(self, framework: str, factory: KernelFactory, plugin: str) -> Loss:
        if framework in self.kernels:
            raise NimabenchError(
                f"loss {self.name!r} has two {framework} kernels: from plugin "
                f"{self.kernels[framework].plugin!r} and from plugin {plugin!r}"
            )
        kernels = {**self.kernels, framework: KernelEntry(factory, plugin)}
        return replace(self, kernels=MappingProxyType(kernels))

    def kernel(self, framework: str) -> Callable:
        """The framework kernel (imports the framework)."""
        if framework not in self.kernels:
            have = ", ".join(sorted(self.kernels)) or "none"
            raise NimabenchError(
                f"loss {self.name!r} has no {framework} kernel (kernels installed: {have}); "
                f"install the {framework} plugin or choose another loss"
            )
        return self.kernels[framework].factory()

    def __call__(self, pred: np.ndarray, target: np.ndarray, score_values: np.ndarray) -> np.ndarray:
        """The NumPy reference, per sample."""
        return self.reference(np.asarray(pred, np.float64), np.asarray(target, np.float64),
                              np.asarray(score_values, np.float64))
