"""Built-in losses (a default plugin): their NumPy references.

Framework kernels live in the framework plugins and must equal these to 1e-6 in float64. All take
probabilities (the softmax output), not logits, since the NIMA head ends in a softmax.
"""

from __future__ import annotations

import numpy as np

from nimabench import hookimpl
from nimabench.loss import Loss
from nimabench.metrics import emd_per_sample

# Probabilities are clipped to [EPSILON, 1 - EPSILON] before a log, as Keras does, so a zero is safe.
EPSILON = 1e-7


def emd2(pred: np.ndarray, target: np.ndarray, score_values: np.ndarray) -> np.ndarray:
    return emd_per_sample(pred, target, r=2)


def emd1(pred: np.ndarray, target: np.ndarray, score_values: np.ndarray) -> np.ndarray:
    return emd_per_sample(pred, target, r=1)


def categorical_cross_entropy(pred: np.ndarray, target: np.ndarray, score_values: np.ndarray) -> np.ndarray:
    return -(target * np.log(np.clip(pred, EPSILON, 1.0))).sum(axis=-1)


def mean_score_squared_error(pred: np.ndarray, target: np.ndarray, score_values: np.ndarray) -> np.ndarray:
    """Squared error of the mean score, with scores rescaled to 0..1 so its size compares with the others."""
    span = score_values[-1] - score_values[0]
    return (((pred - target) @ score_values) / span) ** 2


def cumulative_binary_cross_entropy(pred: np.ndarray, target: np.ndarray,
                                    score_values: np.ndarray) -> np.ndarray:
    """Ordinal: binary cross-entropy of P(score <= s_k) for the N-1 inner thresholds, averaged."""
    pred_cdf = np.clip(np.cumsum(pred, axis=-1)[..., :-1], EPSILON, 1 - EPSILON)
    target_cdf = np.clip(np.cumsum(target, axis=-1)[..., :-1], 0.0, 1.0)
    bce = -(target_cdf * np.log(pred_cdf) + (1 - target_cdf) * np.log(1 - pred_cdf))
    return bce.mean(axis=-1)


BUILTIN_LOSSES = (
    Loss("emd", "Earth Mover's Distance between CDFs, r=2 (the NIMA loss)", emd2),
    Loss("emd1", "Earth Mover's Distance between CDFs, r=1", emd1),
    Loss("cce", "cross-entropy between rating distributions", categorical_cross_entropy),
    Loss("mse-mean", "squared error of the mean score (scale rescaled to 0..1)", mean_score_squared_error),
    Loss("cbce", "ordinal: binary cross-entropy of the cumulative distribution at each threshold",
         cumulative_binary_cross_entropy),
)


@hookimpl
def register_losses(register):
    for loss in BUILTIN_LOSSES:
        register(loss)
