"""Name -> object registries filled by the plugins' ``register_*`` hooks.

One registry per kind (backbones, losses, schedules, datasets, trainers). Each entry remembers the plugin
that registered it, so a name registered twice is an error naming both plugins, and ``nimabench list``
can show where each object comes from.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from nimabench.errors import DuplicateNameError, UnknownNameError


@dataclass(frozen=True)
class Entry:
    name: str
    obj: Any
    plugin: str


@dataclass
class Registry:
    """Entries of one kind, in registration order."""

    kind: str  # "backbone", "loss", ...: used in messages
    _entries: dict[str, Entry] = field(default_factory=dict)

    def add(self, name: str, obj: Any, plugin: str) -> None:
        if not name or not isinstance(name, str):
            raise ValueError(f"plugin {plugin!r} registered a {self.kind} without a name")
        if name in self._entries:
            first = self._entries[name].plugin
            raise DuplicateNameError(
                f"{self.kind} {name!r} is registered twice: by plugin {first!r} and by plugin {plugin!r}"
            )
        self._entries[name] = Entry(name, obj, plugin)

    def replace(self, name: str, obj: Any) -> None:
        """Swap the object of an existing entry, keeping its plugin (used to attach loss kernels)."""
        self._entries[name] = Entry(name, obj, self.entry(name).plugin)

    def entry(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(unknown_name_message(self.kind, name, list(self._entries))) from None

    def get(self, name: str) -> Any:
        return self.entry(name).obj

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


def unknown_name_message(kind: str, name: str, known: list[str]) -> str:
    """``unknown backbone 'mobilnet'; did you mean 'mobilenet'?`` (or the list of what exists)."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if close:
        return f"unknown {kind} {name!r}; did you mean {' or '.join(repr(c) for c in close)}?"
    if known:
        shown = ", ".join(sorted(known)[:12]) + (", ..." if len(known) > 12 else "")
        return f"unknown {kind} {name!r}; known: {shown} (see `nimabench list {kind}s`)"
    return f"unknown {kind} {name!r}: no plugin registers any {kind}"
