"""An epoch's statistics as both trainers count them, and the non-finite loss that fails a trial."""

from __future__ import annotations

import math
import time

import pytest

from nimabench.epochs import EpochStats, EpochTally, NonFiniteLossError, check_finite_loss
from nimabench.errors import NimabenchError
from nimabench.schedule import Stage


def test_the_epoch_loss_is_the_mean_over_images():
    tally = EpochTally(started=time.perf_counter() - 5.0)
    assert tally.add(1.0, 8) == 1 and tally.add(4.0, 2) == 2
    stats = tally.stats()
    assert (stats.loss, stats.images, stats.steps) == (pytest.approx(1.6), 10, 2)
    assert stats.seconds == pytest.approx(5.0, abs=1.0)
    assert stats.images_per_second == pytest.approx(10 / stats.seconds)


def test_an_empty_epoch_has_no_loss_and_no_rate():
    stats = EpochTally().stats()
    assert math.isnan(stats.loss) and stats.images == 0
    assert EpochStats(0.0, 0, 0, 0.0).images_per_second == 0.0


def test_a_non_finite_loss_fails_naming_the_stage_and_its_rates():
    stage = Stage("all", epochs=1, trainable="all", head_lr=1e-3, base_lr=1e-4)
    check_finite_loss(0.5, stage)
    with pytest.raises(NonFiniteLossError, match=r"training loss is nan at stage 'all' \(lr head 0.001, base 0.0001"):
        check_finite_loss(math.nan, stage)
    assert issubclass(NonFiniteLossError, NimabenchError)
