"""keras.applications backbones as nimabench backbones: ``keras:<snake name>`` for each catalogue row.

Each claims its bare snake name (``mobilenet``, ``inception_resnet_v2``) with alias priority 100: the seed
implementation (idealo's) is Keras, so a bare name means the Keras network when another plugin claims it too.
Registering them imports nothing heavy: the catalogue is data, and Keras is imported in :meth:`build`.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from nimabench.backbone import Backbone, WeightsLookup
from nimabench_keras.catalogue import CATALOGUE, CatalogueEntry
from nimabench_keras.weights import find_weights, missing_weights_error

PREFIX = "keras:"
ALIAS_PRIORITY = 100


def framework_installed() -> bool:
    return all(importlib.util.find_spec(module) is not None for module in ("keras", "tensorflow"))


@dataclass(frozen=True)
class KerasBackbone(Backbone):
    entry: CatalogueEntry | None = field(default=None, compare=False)

    framework: ClassVar[str] = "keras"

    def framework_available(self) -> bool:
        return framework_installed()

    def find_pretrained(self, weights_dir: Path | None = None) -> WeightsLookup:
        return find_weights(self.catalogue_entry, weights_dir)

    @property
    def catalogue_entry(self) -> CatalogueEntry:
        assert self.entry is not None, f"{self.name} was registered without its catalogue entry"
        return self.entry

    @property
    def preprocessing(self) -> str:
        return self.catalogue_entry.preprocessing

    def build(self, *, num_buckets: int, pretrained: bool, weights_dir: Path | None = None,
              dropout: float = 0.75, input_size: int | None = None) -> Any:
        """The Keras NIMA model (a ``keras.Model`` taking uint8 pixels); imports Keras."""
        return self.build_parts(num_buckets=num_buckets, weights_path=self.weights_path(pretrained, weights_dir),
                                dropout=dropout, input_size=input_size).model

    def build_parts(self, *, num_buckets: int, weights_path: str | None, dropout: float = 0.75,
                    input_size: int | None = None):
        """A :class:`nimabench_keras.model.NimaKerasModel`: the model and its base, features and head."""
        from nimabench_keras.model import build_nima_model

        return build_nima_model(self.catalogue_entry, num_buckets=num_buckets, input_size=input_size,
                                weights_path=weights_path, dropout=dropout)

    def weights_path(self, pretrained: bool, weights_dir: Path | None = None) -> str | None:
        """The ImageNet file to load, None for random init; asked for and absent is an error naming the places."""
        if not pretrained:
            return None
        lookup = self.find_pretrained(weights_dir)
        if lookup.found is None:
            raise missing_weights_error(self.name, lookup)
        return lookup.found


def keras_backbone(entry: CatalogueEntry) -> KerasBackbone:
    description = entry.description or f"keras.applications.{entry.constructor}"
    return KerasBackbone(
        name=PREFIX + entry.snake_name, default_input_size=entry.default_input_size,
        min_input_size=entry.min_input_size, feature_width=entry.feature_width,
        description=f"{description} ({entry.preprocessing} preprocessing)",
        aliases=(entry.snake_name,), alias_priority=ALIAS_PRIORITY, entry=entry,
    )


def registered_backbones() -> list[KerasBackbone]:
    return [keras_backbone(entry) for entry in CATALOGUE]
