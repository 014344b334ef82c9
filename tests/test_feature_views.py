"""The feature cache's passes and the (seed, epoch) choice of views that both trainers train the head on."""

from __future__ import annotations

import numpy as np
import pytest
from test_staged_training import trial_data

from nimabench.errors import NimabenchError
from nimabench.feature_views import feature_pass_batches, feature_passes, view_batches


def test_every_image_is_seen_once_an_epoch_through_one_of_its_views():
    batches = list(view_batches(2, 21, 8, seed=1, epoch=3))
    assert [len(index) for _, index in batches] == [8, 8, 5]
    seen = np.concatenate([index for _, index in batches])
    assert sorted(seen.tolist()) == list(range(21))
    assert set(np.concatenate([view for view, _ in batches]).tolist()) <= {0, 1}


def test_the_order_and_views_follow_seed_and_epoch():
    def draw(seed: int, epoch: int) -> list[list[int]]:
        return [(index * 2 + view).tolist() for view, index in view_batches(2, 30, 8, seed=seed, epoch=epoch)]

    assert draw(0, 0) == draw(0, 0)
    assert draw(0, 0) != draw(0, 1) and draw(0, 0) != draw(1, 0)


def test_the_draw_is_the_one_both_trainers_always_made():
    """The (seed, epoch, 2) stream: permutation first, then one view per image (what the plugins did)."""
    rng = np.random.default_rng([5, 2, 2])
    order, view = rng.permutation(10), rng.integers(0, 2, 10)
    (got_view, got_index), = view_batches(2, 10, 16, seed=5, epoch=2)
    np.testing.assert_array_equal(got_index, order)
    np.testing.assert_array_equal(got_view, view[order])


def test_a_last_batch_of_one_is_skipped():
    assert [len(index) for _, index in view_batches(1, 9, 4, seed=0, epoch=0)] == [4, 4]


def test_passes_are_the_train_views_then_val():
    data = trial_data(n_val=4)
    assert [(split.name, flip) for split, flip in feature_passes(data)] == [
        ("train", False), ("train", True), ("val", False)]
    assert [(split.name, flip) for split, flip in feature_passes(data, 1)] == [("train", False), ("val", False)]
    assert feature_pass_batches(data, 4) == 3 + 3 + 1
    with pytest.raises(NimabenchError, match="feature_views must be 1"):
        feature_passes(data, 3)
