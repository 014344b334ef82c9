"""timm backbones as nimabench backbones: ``timm:<model>``, each also claiming its bare name as an alias.

The curated list (:mod:`nimabench_timm.catalog`) is registered statically. Any other timm model can be named
in ``$NIMABENCH_TIMM_MODELS`` (comma-separated, e.g. ``resnet18,regnety_008``): it is registered as
``timm:<model>`` without importing timm, and described from timm's pretrained config (input size, weights
repository) only when it is built. Bare aliases take priority 0, so a framework plugin that claims the same
bare name with a higher priority (the Keras plugin's ``mobilenet``) wins.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from nimabench.backbone import Backbone, WeightsLookup
from nimabench_timm.catalog import CURATED_MODELS, TimmModelInfo
from nimabench_timm.weights import WeightsSearch, find_weights

PREFIX = "timm:"
EXTRA_MODELS_ENV = "NIMABENCH_TIMM_MODELS"
ALIAS_PRIORITY = 0


@dataclass(frozen=True)
class TimmBackbone(Backbone):
    model_name: str = ""
    hf_hub_id: str | None = None  # None: read from timm's pretrained config when needed

    framework: ClassVar[str] = "torch"

    def framework_available(self) -> bool:
        return all(importlib.util.find_spec(module) is not None for module in ("torch", "timm"))

    def weights_search(self, weights_dir: Path | None = None) -> WeightsSearch:
        return find_weights(self.model_name, self.resolved_hf_hub_id(), weights_dir)

    def find_pretrained(self, weights_dir: Path | None = None) -> WeightsLookup:
        search = self.weights_search(weights_dir)
        return WeightsLookup(str(search.found.path) if search.found else None, search.searched)

    def build(self, *, num_buckets: int, pretrained: bool, weights_dir: Path | None = None,
              dropout: float = 0.75) -> Any:
        """A :class:`nimabench_timm.model.NimaModel` (imports torch and timm)."""
        from nimabench_timm.model import build_nima_model

        return build_nima_model(self, num_buckets=num_buckets, pretrained=pretrained, weights_dir=weights_dir,
                                dropout=dropout)

    def resolved_hf_hub_id(self) -> str | None:
        if self.hf_hub_id is not None or not self.extra.get("described_lazily"):
            return self.hf_hub_id
        return str(_pretrained_cfg(self.model_name).get("hf_hub_id") or "") or None

    def input_size(self) -> int:
        """The default input side: the static one, or timm's pretrained config for a lazy model."""
        if not self.extra.get("described_lazily"):
            return self.default_input_size
        return int(_pretrained_cfg(self.model_name).get("input_size", (3, 224, 224))[-1])


def curated_backbone(info: TimmModelInfo) -> TimmBackbone:
    return TimmBackbone(
        name=PREFIX + info.name, default_input_size=info.input_size, feature_width=info.feature_width,
        description=info.description, aliases=(info.name,), alias_priority=ALIAS_PRIORITY,
        model_name=info.name, hf_hub_id=info.hf_hub_id,
    )


def lazy_backbone(model_name: str) -> TimmBackbone:
    """Any timm model, registered by name alone; its metadata comes from timm when it is built."""
    return TimmBackbone(
        name=PREFIX + model_name, description=f"timm model {model_name} (described by timm when used)",
        aliases=(model_name,), alias_priority=ALIAS_PRIORITY, model_name=model_name,
        extra={"described_lazily": True},
    )


def registered_backbones() -> list[TimmBackbone]:
    curated = [curated_backbone(info) for info in CURATED_MODELS]
    known = {info.name for info in CURATED_MODELS}
    listed = os.environ.get(EXTRA_MODELS_ENV, "").split(",")
    requested = [name.strip().removeprefix(PREFIX) for name in listed]
    extras = [lazy_backbone(name) for name in dict.fromkeys(requested) if name and name not in known]
    return curated + extras


def _pretrained_cfg(model_name: str) -> dict[str, Any]:
    from nimabench.errors import UnknownNameError
    from nimabench_timm.timm_import import import_timm

    timm = import_timm()
    if not timm.is_model(model_name):
        close = timm.list_models(f"*{model_name}*")[:5]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise UnknownNameError(f"timm has no model {model_name!r} (backbone {PREFIX}{model_name}){hint}")
    cfg = timm.models.get_pretrained_cfg(model_name)
    return cfg.to_dict() if cfg is not None else {}
