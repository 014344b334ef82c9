"""The best weights of a trial, kept in memory while training and written once as ``best.pt``.

Which epoch is best is the core's decision (:class:`nimabench.selection.BestEpoch`, made by the stage loop);
this module keeps the weights it points at. Training continues from the latest weights, not the best, as
Keras does; only the test predictions and ``best.pt`` use the best. ``best.pt`` holds what
:func:`load_trained_model` needs to rebuild the model for prediction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from nimabench_timm.model import NimaModel

CHECKPOINT_FORMAT = 1


@dataclass
class BestCheckpoint:
    state: dict[str, torch.Tensor] | None = None

    def keep(self, model: NimaModel) -> None:
        """Copy the model's weights to the CPU: training goes on changing the model's own."""
        self.state = {key: value.detach().to("cpu", copy=True) for key, value in model.state_dict().items()}

    def restore(self, model: NimaModel) -> None:
        if self.state is not None:
            model.load_state_dict(self.state)

    def save(self, path: Path, best: dict[str, Any], metadata: dict[str, Any]) -> Path:
        """``best.pt``: the kept weights, ``best`` (where they came from) and ``metadata``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        checkpoint = {"format": CHECKPOINT_FORMAT, "state_dict": self.state, "best": best, **metadata}
        torch.save(checkpoint, path)
        return path


def load_trained_model(path: Path, device: str = "cpu") -> tuple[NimaModel, dict[str, Any]]:
    """The trained model of a ``best.pt`` (in eval mode) and the checkpoint's metadata."""
    from nimabench_timm.backbones import lazy_backbone

    checkpoint = torch.load(path, map_location=device, weights_only=True)
    backbone = lazy_backbone(checkpoint["model_name"])
    model = backbone.build(num_buckets=checkpoint["num_buckets"], pretrained=False,
                           dropout=checkpoint["dropout"])
    model.load_state_dict(checkpoint["state_dict"])
    metadata = {key: value for key, value in checkpoint.items() if key != "state_dict"}
    return model.to(device).eval(), metadata
