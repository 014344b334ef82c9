"""Stage progress events: throttled, the last batch of an epoch always sent, an ETA from the batches so far."""

from __future__ import annotations

import pytest

from nimabench import progress as progress_module
from nimabench.progress import StageProgress


@pytest.fixture
def clock(monkeypatch):
    now = [100.0]
    monkeypatch.setattr(progress_module.time, "perf_counter", lambda: now[0])
    return now


def test_batches_are_throttled_but_the_epochs_last_is_always_sent(clock):
    events = []
    progress = StageProgress(events.append, "head", epochs=2, batches_per_epoch=3)
    progress.train_batch(0, 1, 0.5)  # first: sent
    progress.train_batch(0, 2, 0.4)  # within the interval: dropped
    progress.train_batch(0, 3, 0.3)  # final of its epoch: sent anyway
    assert [(e["batch"], e["loss"]) for e in events] == [(1, 0.5), (3, 0.3)]
    assert events[0] | {"eta_s": None} == {"stage": "head", "epochs": 2, "phase": "train", "epoch": 0,
                                           "batch": 1, "batches": 3, "loss": 0.5, "eta_s": None}


def test_the_eta_is_the_remaining_batches_at_the_mean_batch_time(clock):
    events = []
    progress = StageProgress(events.append, "all", epochs=2, batches_per_epoch=2)
    assert progress.eta_s() is None
    clock[0] += 4.0
    progress.train_batch(0, 1, 1.0)
    clock[0] += 4.0
    progress.train_batch(0, 2, 1.0)
    assert events[-1]["eta_s"] == pytest.approx(8.0)  # 2 batches left at 4 s each


def test_feature_events_say_their_phase(clock):
    events = []
    progress = StageProgress(events.append, "head", epochs=1, batches_per_epoch=5)
    progress.features(1, 4)
    progress.features(2, 4)  # throttled
    progress.features(4, 4)  # done: sent
    assert [(e["phase"], e["batch"], e["batches"], e["loss"]) for e in events] == [
        ("features", 1, 4, None), ("features", 4, 4, None)]
