"""Evaluation metrics for predicted rating distributions, in NumPy and SciPy.

Correlations (SRCC, PLCC, KRCC) compare mean scores, or stds for ``srcc_std``/``plcc_std``, as NIMA's tables
do. PLCC is plain Pearson, without the logistic correction some IQA papers fit first (pyiqa's protocol).
EMD is computed per sample and then averaged over samples (NIMA's definition), never as the square root of
a batch-wide mean, which one reference implementation did.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from nimabench.errors import MetricError
from nimabench.labels import distribution_moments


def _paired(pred: np.ndarray, true: np.ndarray, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Both sides as 1-D float arrays of the same length (at least 2), with finite values."""
    pred = np.asarray(pred, dtype=np.float64).reshape(-1)
    true = np.asarray(true, dtype=np.float64).reshape(-1)
    if len(pred) != len(true):
        raise MetricError(f"{metric}: {len(pred)} predictions but {len(true)} true values")
    if len(pred) < 2:
        raise MetricError(f"{metric}: needs at least 2 samples, got {len(pred)}")
    for side, values in (("predictions", pred), ("true values", true)):
        if not np.isfinite(values).all():
            raise MetricError(f"{metric}: {int((~np.isfinite(values)).sum())} {side} are NaN or infinite")
    return pred, true


def _correlation(pred: np.ndarray, true: np.ndarray, metric: str,
                 statistic: Callable[[np.ndarray, np.ndarray], float]) -> float:
    pred, true = _paired(pred, true, metric)
    constant = [side for side, values in (("predictions", pred), ("true values", true))
                if values.min() == values.max()]
    if constant:
        # A correlation with a constant is undefined; say so plainly instead of scipy's generic warning.
        warnings.warn(f"{metric} is undefined (NaN): the {' and the '.join(constant)} are constant "
                      f"({len(pred)} samples)", stacklevel=3)
        return float("nan")
    return float(statistic(pred, true))


def _scipy_stats():
    """scipy.stats, imported on first use: it takes about a second, and every plugin load imports this module."""
    from scipy import stats

    return stats


def srcc(pred: np.ndarray, true: np.ndarray) -> float:
    """Spearman rank correlation."""
    return _correlation(pred, true, "SRCC", lambda a, b: _scipy_stats().spearmanr(a, b).statistic)


def plcc(pred: np.ndarray, true: np.ndarray) -> float:
    """Pearson linear correlation (no logistic mapping first)."""
    return _correlation(pred, true, "PLCC", lambda a, b: _scipy_stats().pearsonr(a, b).statistic)


def krcc(pred: np.ndarray, true: np.ndarray) -> float:
    """Kendall rank correlation, tau-b (accounts for ties, which bucketed scores have)."""
    return _correlation(pred, true, "KRCC", lambda a, b: _scipy_stats().kendalltau(a, b).statistic)


def rmse(pred: np.ndarray, true: np.ndarray) -> float:
    """Root mean squared error, in score units."""
    pred, true = _paired(pred, true, "RMSE")
    return float(np.sqrt(np.mean((pred - true) ** 2)))


def binary_accuracy(pred_mean: np.ndarray, true_mean: np.ndarray, threshold: float) -> float:
    """Share of samples put on the right side of ``threshold``.

    A score strictly above the threshold is "high", at or below it "low", on both sides alike: NIMA
    classifies AVA images with a mean above 5 as high quality.
    """
    pred_mean, true_mean = _paired(pred_mean, true_mean, "accuracy")
    return float(np.mean((pred_mean > threshold) == (true_mean > threshold)))


def _checked_distributions(pred_dist: np.ndarray, true_dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pred_dist = np.asarray(pred_dist, dtype=np.float64)
    true_dist = np.asarray(true_dist, dtype=np.float64)
    if pred_dist.shape != true_dist.shape or pred_dist.ndim != 2:
        raise MetricError(f"predicted distributions {pred_dist.shape} and true distributions {true_dist.shape} "
                          "must both be (samples, buckets)")
    return pred_dist, true_dist


def emd_per_sample(pred_dist: np.ndarray, true_dist: np.ndarray, r: float = 2) -> np.ndarray:
    """EMD(p, q) = ((1/N) sum_k |CDF_p(k) - CDF_q(k)|^r)^(1/r) of each sample, N the number of buckets."""
    if not r > 0:
        raise MetricError(f"EMD: r must be positive, got {r}")
    pred_dist, true_dist = _checked_distributions(pred_dist, true_dist)
    cdf_gap = np.abs(np.cumsum(pred_dist, axis=1) - np.cumsum(true_dist, axis=1))
    return np.mean(cdf_gap**r, axis=1) ** (1 / r)


def emd(pred_dist: np.ndarray, true_dist: np.ndarray, r: float = 2) -> float:
    """Mean over samples of the per-sample EMD."""
    return float(np.mean(emd_per_sample(pred_dist, true_dist, r)))


def evaluate(pred_dist: np.ndarray, true_dist: np.ndarray, score_values: np.ndarray,
             accuracy_threshold: float | None = None) -> dict[str, float]:
    """Every metric of one model on one test set.

    Keys: srcc, plcc, krcc (mean scores), srcc_std, plcc_std (stds), emd1, emd2, rmse (mean scores), and
    accuracy when ``accuracy_threshold`` is given.
    """
    pred_dist, true_dist = _checked_distributions(pred_dist, true_dist)
    if pred_dist.shape[1] != len(score_values):
        raise MetricError(f"distributions have {pred_dist.shape[1]} buckets but there are "
                          f"{len(score_values)} score values")
    pred_mean, pred_std = distribution_moments(pred_dist, score_values)
    true_mean, true_std = distribution_moments(true_dist, score_values)
    results = {
        "srcc": srcc(pred_mean, true_mean),
        "plcc": plcc(pred_mean, true_mean),
        "krcc": krcc(pred_mean, true_mean),
        "srcc_std": srcc(pred_std, true_std),
        "plcc_std": plcc(pred_std, true_std),
        "emd1": emd(pred_dist, true_dist, r=1),
        "emd2": emd(pred_dist, true_dist, r=2),
        "rmse": rmse(pred_mean, true_mean),
    }
    if accuracy_threshold is not None:
        results["accuracy"] = binary_accuracy(pred_mean, true_mean, accuracy_threshold)
    return results
