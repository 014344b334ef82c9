"""Keras kernels of the built-in losses: ``kernel(pred, target, score_values) -> per-sample losses``.

Written with ``keras.ops``, so they run on whichever backend Keras uses (TensorFlow here). Each mirrors its
NumPy reference in :mod:`nimabench.losses` (the definition; equal to 1e-6 in float64) and the PyTorch
kernel of nimabench-timm, down to the floor under EMD's square root, so both frameworks give the same value
and the same gradient (tests/test_kernels.py, tests/test_cross_framework.py).

Imports Keras at module import: the plugin's kernel factories import this module when a kernel is asked for.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
from keras import ops

from nimabench.losses import EPSILON

Kernel = Callable[..., "keras.KerasTensor"]

# sqrt'(0) is infinite, so a perfect prediction would give NaN gradients; below this mean squared CDF gap
# the gradient is cut to zero (the value moves by at most 1e-15). The same floor as nimabench-timm's.
SQRT_FLOOR = 1e-30


def _cdf_gap(pred, target):
    return ops.cumsum(pred, axis=-1) - ops.cumsum(target, axis=-1)


def emd2(pred, target, score_values):
    return ops.sqrt(ops.maximum(ops.mean(ops.square(_cdf_gap(pred, target)), axis=-1), SQRT_FLOOR))


def emd1(pred, target, score_values):
    return ops.mean(ops.abs(_cdf_gap(pred, target)), axis=-1)


def categorical_cross_entropy(pred, target, score_values):
    return -ops.sum(target * ops.log(ops.clip(pred, EPSILON, 1.0)), axis=-1)


def mean_score_squared_error(pred, target, score_values):
    scores = ops.convert_to_tensor(score_values, dtype=pred.dtype)
    span = scores[-1] - scores[0]
    return ops.square(ops.matmul(pred - target, scores) / span)


def cumulative_binary_cross_entropy(pred, target, score_values):
    pred_cdf = ops.clip(ops.cumsum(pred, axis=-1)[..., :-1], EPSILON, 1 - EPSILON)
    target_cdf = ops.clip(ops.cumsum(target, axis=-1)[..., :-1], 0.0, 1.0)
    bce = -(target_cdf * ops.log(pred_cdf) + (1 - target_cdf) * ops.log(1 - pred_cdf))
    return ops.mean(bce, axis=-1)


KERNELS: dict[str, Kernel] = {
    "emd": emd2,
    "emd1": emd1,
    "cce": categorical_cross_entropy,
    "mse-mean": mean_score_squared_error,
    "cbce": cumulative_binary_cross_entropy,
}
