"""The Backbone interface and how a backbone name resolves.

A backbone is an ImageNet network whose classifier the NIMA head replaces. The core only knows its
metadata; building it (and importing its framework) is the framework plugin's job, inside :meth:`build`.

Names: every backbone has a unique full name (``timm:mobilenetv3_large_100``, ``keras:mobilenet``) and may
claim bare aliases (``mobilenet``). A plugin may also resolve names it never registered, through the
``resolve_backbone`` hook (the timm plugin resolves ``timm:<any timm model>``). A bare name claimed by
several backbones resolves to the one with the highest ``alias_priority``; on a tie, to the one registered
first (plugin load order). The Keras plugin claims its bare names with a higher priority than the timm
plugin, since the seed implementation is Keras. ``nimabench list backbones`` shows the winner and the others.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from nimabench.errors import UnknownNameError
from nimabench.plugins import load_plugins
from nimabench.registry import Entry, Registry, unknown_name_message


@dataclass(frozen=True)
class WeightsLookup:
    """Where pretrained weights were found (``found``), or every place that was searched."""

    found: str | None
    searched: tuple[str, ...] = ()


@dataclass(frozen=True)
class Backbone(ABC):
    name: str
    default_input_size: int = 224
    min_input_size: int = 32
    feature_width: int | None = None
    description: str = ""
    aliases: tuple[str, ...] = ()
    alias_priority: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    framework: ClassVar[str]  # 'keras' | 'torch': picks the trainer

    @abstractmethod
    def framework_available(self) -> bool:
        """Whether the framework and library are importable (checked without importing them)."""

    @abstractmethod
    def find_pretrained(self, weights_dir: Path | None = None) -> WeightsLookup:
        """Look for ImageNet weights on this machine, without downloading anything."""

    @abstractmethod
    def build(self, *, num_buckets: int, pretrained: bool, weights_dir: Path | None = None,
              dropout: float = 0.75) -> Any:
        """The framework model: backbone with its classifier replaced by the NIMA head."""

    def input_size(self) -> int:
        """The default input side; a backbone that learns it late (a lazily described model) overrides this."""
        return self.default_input_size

    def availability(self, weights_dir: Path | None = None) -> str:
        if not self.framework_available():
            return f"{self.framework} not installed"
        return "pretrained" if self.find_pretrained(weights_dir).found else "random init only"


def resolve_backbone(registry: Registry, name: str) -> Entry:
    """The entry for a full name or a bare alias (the rule in the module docstring)."""
    if name in registry:
        return registry.entry(name)
    claimants = alias_claimants(registry).get(name)
    if claimants:
        return claimants[0]
    resolved = _resolved_by_a_plugin(name)
    if resolved:
        return resolved
    known = registry.names() + list(alias_claimants(registry))
    raise UnknownNameError(unknown_name_message("backbone", name, known))


def _resolved_by_a_plugin(name: str) -> Entry | None:
    for impl in reversed(load_plugins().hook.resolve_backbone.get_hookimpls()):  # pluggy's call order
        backbone = impl.function(name=name)
        if backbone is not None:
            return Entry(name, backbone, impl.plugin_name)
    return None


def alias_claimants(registry: Registry) -> dict[str, list[Entry]]:
    """Bare alias -> the backbones claiming it, the winner first."""
    order = {entry.name: i for i, entry in enumerate(registry)}
    claims: dict[str, list[Entry]] = {}
    for entry in registry:
        for alias in entry.obj.aliases:
            claims.setdefault(alias, []).append(entry)
    for entries in claims.values():
        entries.sort(key=lambda e: (-e.obj.alias_priority, order[e.name]))
    return claims
