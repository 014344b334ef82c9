"""The best epoch over a trial and a stage's early stop: decisions both trainers share."""

from __future__ import annotations

import math

from nimabench.selection import BestEpoch, EarlyStopping


def test_the_lowest_val_loss_is_the_best_over_every_stage():
    best = BestEpoch()
    offers = [best.offer(0.5, "head", 0), best.offer(0.6, "head", 1), best.offer(0.4, "all", 0),
              best.offer(0.4, "all", 1)]
    assert offers == [True, False, True, False]  # a tie keeps the earlier epoch
    assert best.where == {"stage": "all", "epoch": 0, "val_loss": 0.4, "chosen_by": "lowest val loss"}


def test_without_val_the_last_epoch_is_kept():
    best = BestEpoch()
    assert best.offer(math.nan, "head", 0) and best.offer(math.nan, "head", 1)
    assert best.where == {"stage": "head", "epoch": 1, "val_loss": None, "chosen_by": "last epoch (no val split)"}
    assert best.val_loss == math.inf


def test_a_stage_stops_after_patience_epochs_without_improvement():
    stopping = EarlyStopping(patience=2, has_val=True)
    assert [stopping.should_stop(loss) for loss in (0.5, 0.6, 0.4, 0.45, 0.41)] == [False, False, False, False,
                                                                                  True]
    assert stopping.stale_epochs == 2 and stopping.stage_best == 0.4


def test_no_patience_or_no_val_never_stops():
    assert not any(EarlyStopping(None, has_val=True).should_stop(1.0) for _ in range(5))
    never = EarlyStopping(1, has_val=False)
    assert not any(never.should_stop(math.nan) for _ in range(5))
