"""Choosing the best epoch of a trial and stopping a stage early: the decisions, without any weights.

The best is taken over every epoch of every stage by the val loss, as idealo's single ModelCheckpoint
callback did across its two fits; without a val split the last epoch is kept. A stage stops early after
``patience`` epochs without improving on its own best val loss, and never without a val split. Keeping the
weights is each framework's job: a trainer copies them whenever :meth:`BestEpoch.offer` says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class BestEpoch:
    val_loss: float = math.inf
    where: dict[str, Any] = field(default_factory=dict)  # stage, epoch, val loss and why it was chosen

    def offer(self, val_loss: float, stage: str, epoch: int) -> bool:
        """Whether this epoch is the best so far (always, when there is no val loss)."""
        no_val = not math.isfinite(val_loss)
        if not (no_val or val_loss < self.val_loss):
            return False
        self.val_loss = val_loss if not no_val else math.inf
        self.where = {"stage": stage, "epoch": epoch, "val_loss": None if no_val else float(val_loss),
                      "chosen_by": "last epoch (no val split)" if no_val else "lowest val loss"}
        return True


@dataclass
class EarlyStopping:
    """One stage's patience: it counts epochs since the stage's own best val loss."""

    patience: int | None
    has_val: bool
    stage_best: float = math.inf
    stale_epochs: int = 0

    def should_stop(self, val_loss: float) -> bool:
        """Record one epoch's val loss; True when the stage should stop after it."""
        if val_loss < self.stage_best:
            self.stage_best, self.stale_epochs = val_loss, 0
        else:
            self.stale_epochs += 1
        return self.patience is not None and self.has_val and self.stale_epochs >= self.patience
