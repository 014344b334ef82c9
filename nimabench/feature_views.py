"""Which cached feature views a frozen-base epoch trains on: the NumPy half of both trainers' feature caches.

While a stage trains only the head, the backbone is a fixed function, so its pooled features are computed
once per trial: for training, ``views`` views of each image (the centre crop, then its mirror image), for
validation the centre crop. Each epoch the head sees every training image once, through one of its views
drawn from the (seed, epoch) stream, so an epoch has as many steps as an epoch over the images and both
frameworks draw the same views in the same order. The frameworks keep the feature tensors themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from nimabench.errors import NimabenchError
from nimabench.trial_data import Split, TrialData

VIEWS = 2  # centre crop and its mirror image
FEATURE_STREAM = 2  # the (seed, epoch, 2) stream: apart from the shuffle's and the augmentations' streams


def feature_passes(data: TrialData, views: int = VIEWS) -> list[tuple[Split, bool]]:
    """The (split, mirrored) passes that fill a feature cache: the train views in order, then val."""
    if views not in (1, 2):
        raise NimabenchError(f"feature_views must be 1 (centre crop) or 2 (and its mirror), got {views}")
    return [(data.train, False), (data.train, True)][:views] + [(data.val, False)]


def feature_pass_batches(data: TrialData, batch_size: int, views: int = VIEWS) -> int:
    """Backbone batches it takes to fill the cache (the progress total)."""
    return sum(data.batch_count(split, batch_size) for split, _ in feature_passes(data, views))


def view_batches(views: int, n: int, batch_size: int, *, seed: int,
                 epoch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(view per image, train index) arrays of each batch of an epoch over ``n`` cached images.

    A last batch of one image is skipped, as it is on pixels (its BatchNorm statistics would be meaningless).
    """
    rng = np.random.default_rng([seed, epoch, FEATURE_STREAM])
    order = rng.permutation(n)
    view = rng.integers(0, views, n)
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        if len(index) < 2:
            continue
        yield view[index], index
