"""tf.data over the image cache: the NumPy batches of :mod:`nimabench.trial_data`, prefetched.

The pipeline carries the cache's uint8 pixels as they are (a quarter of the bytes of float32; the model
casts and preprocesses them itself), and prefetching lets the next batch's crop and flip run in a tf.data
thread while TensorFlow runs the current step. Nothing is decoded again: the pixels come from the
memory-mapped cache.

A stage reads one pipeline that runs epoch after epoch (:class:`EpochStream`), each epoch its own seeded
(seed, epoch) order, and takes an epoch's number of batches from it at a time. A pipeline per epoch would
start empty every epoch, and reaching the end of a generator-fed pipeline sometimes stalled the next
fetch for seconds here (measured: 3-20 s at some epoch boundaries, with MobileNet at 224 on two cores).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf

PREFETCH_BATCHES = 2  # one being trained on, one ready: more only holds memory

Batch = tuple[np.ndarray, np.ndarray]
EpochBatches = Callable[[int], Iterator[Batch]]  # epoch -> that epoch's batches


def batch_dataset(source: Callable[[], Iterator[Batch]], image_size: int, buckets: int) -> tf.data.Dataset:
    """A dataset of (uint8 (n, s, s, 3) pixels, float32 (n, buckets) targets) drawn from ``source()``."""
    signature = (tf.TensorSpec((None, image_size, image_size, 3), tf.uint8),
                 tf.TensorSpec((None, buckets), tf.float32))
    return tf.data.Dataset.from_generator(source, output_signature=signature).prefetch(PREFETCH_BATCHES)


class EpochStream:
    """Consecutive epochs from ``first_epoch`` on, through one prefetched pipeline."""

    def __init__(self, epoch_batches: EpochBatches, first_epoch: int, image_size: int, buckets: int):
        def source() -> Iterator[Batch]:
            for epoch in itertools.count(first_epoch):
                yield from epoch_batches(epoch)

        self.iterator = iter(batch_dataset(source, image_size, buckets))

    def next_epoch(self, batches: int) -> Iterator[tuple[tf.Tensor, tf.Tensor]]:
        """The next epoch's batches (``batches`` of them: the count every epoch of the split has)."""
        return itertools.islice(self.iterator, batches)
