"""Uncertainty for leaderboards: bootstrap intervals of SRCC and PLCC, paired comparisons, Holm's correction.

Every resampling is paired over test images: one replicate draws image indices once and applies them to the
truth and to every prediction on that test set (all seeds of an entry, and both entries of a comparison), so
what is shared between seeds and models (the test images) is not counted as independent noise.
``scipy.stats.bootstrap`` draws the replicates and computes the intervals (BCa by default); this module only
supplies a statistic that works on a whole batch of replicates at once, which keeps thousands of replicates
fast.

The batched statistic cannot call :func:`nimabench.metrics.srcc` (scalar, one pair of vectors per call), so it
computes the same definitions on whole batches: SRCC is Pearson's r of average ranks, PLCC is Pearson's r of
the scores. Tests check it against :mod:`nimabench.metrics` and against scipy's own ``paired=True`` bootstrap
of ``spearmanr``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

METRICS = ("srcc", "plcc")
METHODS = ("BCa", "percentile", "basic")
# Elements (rows x replicates x images) per statistic call: bounds memory for large test sets such as AVA's.
ELEMENTS_PER_BATCH = 4_000_000


@dataclass(frozen=True)
class BootstrapSettings:
    """How intervals and tie tests are computed; plain data, so a published table can state it."""

    n_resamples: int = 2000
    confidence_level: float = 0.95
    method: str = "BCa"
    alpha: float = 0.05  # significance level of the tie test against the leader (after Holm)
    seed: int = 0
    # BCa's acceleration needs a jackknife of n statistics on n - 1 images (O(n^2) work); above this many
    # images BCa and percentile intervals agree to well under the Monte Carlo error, so percentile is used.
    bca_max_images: int = 5000

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown bootstrap method {self.method!r}; choose from {', '.join(METHODS)}")
        if self.n_resamples < 100:
            raise ValueError(f"n_resamples must be at least 100, got {self.n_resamples}")
        if not 0 < self.confidence_level < 1 or not 0 < self.alpha < 1:
            raise ValueError("confidence_level and alpha must lie strictly between 0 and 1")

    def method_for(self, n_images: int) -> str:
        return "percentile" if self.method == "BCa" and n_images > self.bca_max_images else self.method

    def describe(self) -> str:
        method = self.method if self.method != "BCa" else f"BCa (percentile above {self.bca_max_images} images)"
        return (f"{self.confidence_level:.0%} {method}, paired bootstrap over test images, "
                f"{self.n_resamples} resamples, seed {self.seed}")

    def describe_ties(self) -> str:
        return (f"paired bootstrap of the SRCC difference with each tie group's best entry (percentile, "
                f"two-sided), Holm-corrected, alpha {self.alpha:g}")


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """SRCC(first) - SRCC(second) on the same test images, its interval and a two-sided p-value."""

    difference: float
    low: float
    high: float
    p_value: float


def correlation_intervals(truth: np.ndarray, predictions: np.ndarray,
                          settings: BootstrapSettings) -> dict[str, Interval]:
    """Intervals of the seed-mean SRCC and PLCC. ``predictions``: (seeds, images), aligned with ``truth``."""
    predictions = np.atleast_2d(predictions)
    weights = np.full((len(METRICS), len(predictions)), 1 / len(predictions))
    estimate, low, high, _ = _bootstrap(truth, predictions, weights, settings)
    return {metric: Interval(float(estimate[k]), float(low[k]), float(high[k]))
            for k, metric in enumerate(METRICS)}


def compare_srcc(truth: np.ndarray, first: np.ndarray, second: np.ndarray,
                 settings: BootstrapSettings) -> Comparison:
    """Paired bootstrap of mean-over-seeds SRCC(first) - SRCC(second); both (seeds, images) on ``truth``.

    The p-value is NaN when most resamples leave a correlation undefined (a test set of a handful of images).
    The interval is the percentile one, read off the same replicates as the two-sided p-value, so it
    excludes 0 when (up to the +1 terms) the unadjusted p is below 1 - confidence_level: a table never
    shows a test and an interval that disagree. No jackknife is needed, which keeps the many comparisons
    of a tie analysis quick.
    """
    first, second = np.atleast_2d(first), np.atleast_2d(second)
    weights = np.concatenate([np.full(len(first), 1 / len(first)), np.full(len(second), -1 / len(second))])
    # The statistic yields (srcc, plcc) contrasts; PLCC's row gets zero weight and is ignored.
    weights = np.stack([weights, np.zeros_like(weights)])
    estimate, _, _, replicates = _bootstrap(truth, np.concatenate([first, second]), weights, settings,
                                            method="percentile")
    # Resamples of a tiny test set can draw one image only, where correlations are undefined: skip those.
    finite = replicates[0][np.isfinite(replicates[0])]
    if len(finite) < settings.n_resamples / 2:
        return Comparison(float(estimate[0]), np.nan, np.nan, np.nan)
    tail = (1 - settings.confidence_level) / 2
    low, high = np.quantile(finite, [tail, 1 - tail])
    return Comparison(float(estimate[0]), float(low), float(high), _two_sided_p(finite))


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error control, no independence assumption).
    A NaN (a comparison that could not be tested) stays NaN and is not counted in the family."""
    p = np.asarray(p_values, dtype=np.float64)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested])]
    m = len(order)
    adjusted = np.full_like(p, np.nan)
    adjusted[order] = np.minimum(np.maximum.accumulate((m - np.arange(m)) * p[order]), 1.0)
    return adjusted


def _two_sided_p(replicates: np.ndarray) -> float:
    """Share of replicates on the far side of zero, doubled; +1 terms keep it a valid p-value (never 0)."""
    n = len(replicates)
    # Equal models can differ by rounding alone (seeds averaged in another order): that is no difference.
    replicates = np.where(np.abs(replicates) < 1e-12, 0.0, replicates)
    tail = min(np.count_nonzero(replicates <= 0), np.count_nonzero(replicates >= 0))
    return min(1.0, 2 * (tail + 1) / (n + 1))


def _bootstrap(truth: np.ndarray, predictions: np.ndarray, weights: np.ndarray, settings: BootstrapSettings,
               method: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Estimate, interval bounds and replicates of ``weights`` (metrics, rows) applied to each prediction
    row's (SRCC, PLCC) with the truth.

    scipy resamples one array, the image indices; every statistic reads all rows through the same indices,
    which is exactly what ``paired=True`` does inside scipy, but leaves the statistic the indices themselves.
    """
    from scipy import stats  # here, not at import: scipy.stats takes about a second, and the CLI imports us

    correlations = _ResampledCorrelations(np.asarray(truth, dtype=np.float64),
                                          np.asarray(predictions, dtype=np.float64))

    def statistic(indices: np.ndarray, axis: int = -1) -> np.ndarray:
        return np.einsum("mr,mr...->m...", weights, correlations(indices))

    n = len(truth)
    batch = max(1, ELEMENTS_PER_BATCH // (n * (1 + len(predictions))))
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # A constant statistic (two identical models) makes BCa's acceleration 0/0; handled below.
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap((np.arange(n),), statistic, vectorized=True, n_resamples=settings.n_resamples,
                                 batch=batch, method=method or settings.method_for(n),
                                 confidence_level=settings.confidence_level, rng=settings.seed)
        estimate = statistic(np.arange(n))
    replicates = result.bootstrap_distribution
    low, high = (np.asarray(bound, dtype=np.float64) for bound in result.confidence_interval)
    constant = np.ptp(replicates, axis=-1) == 0
    return estimate, np.where(constant, estimate, low), np.where(constant, estimate, high), replicates


class _ResampledCorrelations:
    """Each prediction row's SRCC and PLCC with the truth on resamples given as image indices.

    A resample is summarised by how often it draws each image. Its average ranks (ties share the mean of
    their positions, as in scipy's rankdata) follow from cumulative draw counts in value order, and its
    correlations are Pearson's r of the original images weighted by those counts: the resample's own
    SRCC and PLCC, exactly, in O(n) per resample and without sorting or copying any resample.
    """

    def __init__(self, truth: np.ndarray, predictions: np.ndarray):
        self.n = len(truth)
        self.truth_ranks = _RankLayout.of(truth)
        self.prediction_ranks = [_RankLayout.of(row) for row in predictions]
        self.truth = truth - truth.mean()  # centred: weighted sums of squares stay well conditioned
        self.predictions = predictions - predictions.mean(axis=1, keepdims=True)

    def __call__(self, indices: np.ndarray) -> np.ndarray:
        """(2, rows, *batch) for indices (*batch, draws)."""
        counts = _draw_counts(indices, self.n)
        draws = indices.shape[-1]
        truth_ranks = self.truth_ranks.ranks(counts)
        srcc = [_weighted_pearson(counts, truth_ranks, layout.ranks(counts), draws)
                for layout in self.prediction_ranks]
        plcc = [_weighted_pearson(counts, self.truth, row, draws) for row in self.predictions]
        return np.stack([np.stack(srcc), np.stack(plcc)])


@dataclass(frozen=True)
class _RankLayout:
    """Where each value sits in sorted order, and where each group of tied values ends."""

    codes: np.ndarray  # 0..m-1 in value order, ties share a code
    order: np.ndarray  # the argsort of codes
    group_ends: np.ndarray | None  # in sorted order, the last position of each code; None without ties

    @classmethod
    def of(cls, values: np.ndarray) -> _RankLayout:
        codes = np.unique(values, return_inverse=True)[1]
        order = np.argsort(codes, kind="stable")
        sorted_codes = codes[order]
        ends = np.flatnonzero(np.r_[sorted_codes[1:] != sorted_codes[:-1], True])
        return cls(codes, order, ends if len(ends) < len(values) else None)

    def ranks(self, counts: np.ndarray) -> np.ndarray:
        """Average rank, within the resample, of each original image's value; counts (*batch, n)."""
        in_group = counts[..., self.order]
        through_group = np.cumsum(in_group, axis=-1)
        if self.group_ends is not None:  # ties: one count per group of equal values
            through_group = through_group[..., self.group_ends]
            in_group = np.diff(through_group, axis=-1, prepend=0)
        return (through_group - (in_group - 1) / 2)[..., self.codes]


def _draw_counts(indices: np.ndarray, n: int) -> np.ndarray:
    """(*batch, n): how many times each image is drawn in each resample."""
    rows = indices.reshape(-1, indices.shape[-1])
    flat = (rows + np.arange(len(rows))[:, None] * n).ravel()  # each resample's indices in a range of its own
    counts = np.bincount(flat, minlength=len(rows) * n).reshape(len(rows), n)
    return counts.reshape(*indices.shape[:-1], n).astype(np.float64)


def _weighted_pearson(weights: np.ndarray, x: np.ndarray, y: np.ndarray, total: int) -> np.ndarray:
    """Pearson's r along the last axis of the sample holding ``weights`` copies of each (x, y)."""
    weighted_x, weighted_y = weights * x, weights * y
    sum_x, sum_y = weighted_x.sum(axis=-1), weighted_y.sum(axis=-1)
    cov = total * _dot(weighted_x, y) - sum_x * sum_y
    var_x = total * _dot(weighted_x, x) - sum_x**2
    var_y = total * _dot(weighted_y, y) - sum_y**2
    return cov / np.sqrt(var_x * var_y)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum of products along the last axis, without the temporary array of products."""
    return np.einsum("...i,...i->...", a, b)
