"""The best epoch of a trial, chosen on the val split, kept in memory and written once as ``best.pt``.

The best is taken over every epoch of every stage by the val loss (the trial's loss on the val split's
centre crops), as idealo's single ModelCheckpoint callback did across its two fits. Without a val split the
last epoch is kept. Training continues from the latest weights, not the best, as Keras does; only the test
predictions and ``best.pt`` use the best. ``best.pt`` holds what :func:`load_trained_model` needs to rebuild
the model for prediction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from nimabench_timm.model import NimaModel

CHECKPOINT_FORMAT = 1


@dataclass
class BestCheckpoint:
    val_loss: float = math.inf
    state: dict[str, torch.Tensor] | None = None
    where: dict[str, Any] = field(default_factory=dict)

    def offer(self, model: NimaModel, val_loss: float, stage: str, epoch: int) -> bool:
        """Keep the model's weights if ``val_loss`` is the best so far (or there is no val loss)."""
        no_val = not math.isfinite(val_loss)
        if not (no_val or val_loss < self.val_loss):
            return False
        self.val_loss = val_loss if not no_val else math.inf
        self.state = {key: value.detach().to("cpu", copy=True) for key, value in model.state_dict().items()}
        self.where = {"stage": stage, "epoch": epoch, "val_loss": None if no_val else float(val_loss),
                      "chosen_by": "last epoch (no val split)" if no_val else "lowest val loss"}
        return True

    def restore(self, model: NimaModel) -> None:
        if self.state is not None:
            model.load_state_dict(self.state)

    def save(self, path: Path, metadata: dict[str, Any]) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        checkpoint = {"format": CHECKPOINT_FORMAT, "state_dict": self.state, "best": self.where, **metadata}
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
