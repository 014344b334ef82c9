"""Rating distributions: the labels NIMA trains on.

Datasets with vote histograms (AVA, KonIQ-10k) give distributions directly (:func:`votes_to_distribution`).
Datasets that publish only a mean opinion score, and perhaps its std (TID2013, KADID-10k, SPAQ), need one
synthesised over their score buckets; :func:`distributions_from_moments` offers three strategies:

- ``maxent-mean``: the maximum-entropy distribution with the given mean, ``p_k ∝ exp(l * s_k)``. This is the
  idealo TID2013 label, minus its defect (its solver returned a uniform distribution for MOS near 7).
- ``maxent-mean-std``: the maximum-entropy distribution with the given mean and std,
  ``p_k ∝ exp(l1 * s_k + l2 * s_k^2)``: a discrete Gaussian shape that matches both moments exactly.
- ``gaussian``: the mass of a normal N(mean, std) in each bucket (between midpoints); simple, but its
  moments drift from the targets near the ends of the scale.

Both maximum-entropy fits solve the convex dual (log-partition minus lambda . targets) with scipy.optimize
on standardised scores, then verify that the moments are hit; an unsolvable target is an error, never a
silently wrong label.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from nimabench.errors import LabelError


def _scipy():
    """scipy with optimize and stats loaded on first use (about a second), not when plugins import labels."""
    import scipy.optimize
    import scipy.stats

    return scipy

LABEL_STRATEGIES = ("votes", "maxent-mean", "maxent-mean-std", "gaussian")
MOMENT_STRATEGIES = LABEL_STRATEGIES[1:]

# A fitted label must reproduce its targets this closely (in score units); the tests ask for 1e-6.
MOMENT_TOLERANCE = 1e-9
# exp(quadratic) only approaches the std bounds asymptotically, so targets closer than this fraction of the
# feasible band to either bound are clamped to it (they would need unbounded lambdas).
STD_BAND_MARGIN = 1e-4


# -- votes ---------------------------------------------------------------------------------------------------
def votes_to_distribution(counts: np.ndarray | Sequence, row_names: Sequence[str] | None = None) -> np.ndarray:
    """Vote counts (n, k) -> probabilities (n, k). A 1-D row of counts gives one (k,) distribution."""
    counts = np.asarray(counts, dtype=np.float64)
    rows = np.atleast_2d(counts)
    totals = rows.sum(axis=1)
    bad = ~np.isfinite(rows).all(axis=1) | (rows < 0).any(axis=1) | ~(totals > 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        others = f" (and {int(bad.sum()) - 1} more rows)" if bad.sum() > 1 else ""
        raise LabelError(
            f"{_row_name(first, row_names)}: vote counts {rows[first].tolist()} must be non-negative, finite "
            f"and not all zero{others}"
        )
    probabilities = rows / totals[:, None]
    return probabilities.reshape(counts.shape)


def _row_name(index: int, row_names: Sequence[str] | None) -> str:
    # list(): a pandas Series would index by label, not position. Only called on the error path.
    return str(list(row_names)[index]) if row_names is not None else f"row {index}"


# -- moments -------------------------------------------------------------------------------------------------
def distribution_moments(p: np.ndarray, score_values: np.ndarray | Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``sum s_k p_k`` and std ``sqrt(sum (s_k - mean)^2 p_k)`` of each distribution (last axis)."""
    p = np.asarray(p, dtype=np.float64)
    scores = np.asarray(score_values, dtype=np.float64)
    if p.shape[-1:] != scores.shape:
        raise LabelError(f"distributions have {p.shape[-1:]} buckets but there are {len(scores)} score values")
    mean = p @ scores
    variance = ((scores - mean[..., None]) ** 2 * p).sum(axis=-1)
    # Rounding can make the variance of a near-delta distribution a hair below zero.
    return mean, np.sqrt(np.maximum(variance, 0.0))


def map_scale(x: np.ndarray | float, from_range: tuple[float, float], to_range: tuple[float, float]) -> np.ndarray:
    """Map scores linearly from one scale to another, e.g. SPAQ's 0..100 onto 1..10. Values are not clipped."""
    (from_low, from_high), (to_low, to_high) = from_range, to_range
    if from_high == from_low:
        raise LabelError(f"cannot map from the empty score range {from_range}")
    scale = (to_high - to_low) / (from_high - from_low)
    return to_low + (np.asarray(x, dtype=np.float64) - from_low) * scale


# -- score scales --------------------------------------------------------------------------------------------
def _checked_scores(score_values: np.ndarray | Sequence) -> np.ndarray:
    scores = np.asarray(score_values, dtype=np.float64)
    if scores.ndim != 1 or len(scores) < 2 or not (np.diff(scores) > 0).all():
        raise LabelError(f"score values must be at least two increasing numbers, got {scores.tolist()}")
    return scores


def _check_targets(means: np.ndarray, stds: np.ndarray | None, scores: np.ndarray,
                   describe_row, *, ends_allowed: bool = False) -> None:
    """Every mean inside the scale and every std a non-negative number, or an error naming the first row."""
    low, high = scores[0], scores[-1]
    # At an end of the scale the only distribution is a delta, which exp(...) reaches only at infinity.
    inside = (low <= means) & (means <= high) if ends_allowed else (low < means) & (means < high)
    if not inside.all():
        first = int(np.flatnonzero(~inside)[0])
        how = "inside" if ends_allowed else "strictly inside"
        raise LabelError(f"{describe_row(first)}: mean {means[first]:g} must lie {how} the score scale "
                         f"{low:g}..{high:g}")
    if stds is not None and not (np.isfinite(stds) & (stds >= 0)).all():
        first = int(np.flatnonzero(~(np.isfinite(stds) & (stds >= 0)))[0])
        raise LabelError(f"{describe_row(first)}: std {stds[first]:g} must be a non-negative number")


def _std_bounds(means: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The least spread puts all mass on the two support points around the mean, the most on the two ends."""
    upper = np.clip(np.searchsorted(scores, means, side="right"), 1, len(scores) - 1)
    low = np.sqrt(np.maximum((means - scores[upper - 1]) * (scores[upper] - means), 0.0))
    high = np.sqrt((means - scores[0]) * (scores[-1] - means))
    return low, high


def feasible_std_range(mean: float, score_values: np.ndarray | Sequence) -> tuple[float, float]:
    """The smallest and largest std any distribution on these score values can have with this mean."""
    scores = _checked_scores(score_values)
    _check_targets(np.array([mean], dtype=np.float64), None, scores, lambda _: "feasible std range")
    low, high = _std_bounds(np.array([mean], dtype=np.float64), scores)
    return float(low[0]), float(high[0])


def _solvable_stds(means: np.ndarray, stds: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``stds`` clamped into their feasible bands less the margin (unchanged when already inside)."""
    low, high = _std_bounds(means, scores)
    margin = STD_BAND_MARGIN * (high - low)
    return np.clip(stds, low + margin, high - margin)


# -- maximum entropy -----------------------------------------------------------------------------------------
def maxent_distribution(mean: float, score_values: np.ndarray | Sequence, std: float | None = None) -> np.ndarray:
    """The maximum-entropy distribution on ``score_values`` with this mean (and std, when given).

    A std the support cannot reach with this mean is clamped to the nearest solvable value, with a warning.
    """
    scores = _checked_scores(score_values)
    mean = float(mean)
    _check_targets(np.array([mean]), None if std is None else np.array([float(std)]), scores,
                   lambda _: "maxent label")
    if std is not None:
        solvable = float(_solvable_stds(np.array([mean]), np.array([float(std)]), scores)[0])
        if solvable != std:
            warnings.warn(f"maxent label: {_clamp_message(mean, std, solvable, scores)}", stacklevel=2)
        std = solvable
    return _fit_maxent(mean, std, scores)


def _clamp_message(mean: float, std: float, solvable: float, scores: np.ndarray) -> str:
    low, high = feasible_std_range(mean, scores)
    return (
        f"std {std:g} for mean {mean:g} is not safely inside what scores {scores[0]:g}..{scores[-1]:g} "
        f"allow ({low:.6g} < std < {high:.6g}, less {STD_BAND_MARGIN:.2%} of that band); "
        f"clamped to {solvable:.9g}"
    )


def _fit_maxent(mean: float, std: float | None, scores: np.ndarray) -> np.ndarray:
    """Solve the dual in standardised units, then check the moments in score units."""
    # Unit spread of the scores keeps lambdas and the Hessian well scaled for every scale (0..9, 0..100).
    z = (scores - scores.mean()) / scores.std()
    z_mean = (mean - scores.mean()) / scores.std()
    if std is None:
        p = _fit_exp_linear(z - z_mean)
    else:
        p = _fit_exp_quadratic(z, z_mean, std / scores.std())
    _verify_moments(p, scores, mean, std)
    return p


def _gibbs(theta: np.ndarray, features: np.ndarray) -> np.ndarray:
    """``p ∝ exp(features @ theta)``, through the log-partition so that large lambdas cannot overflow."""
    logits = features @ theta
    return np.exp(logits - _log_partition(logits))


def _log_partition(logits: np.ndarray) -> float:
    # scipy.special.logsumexp computes the same, but its array-API layer costs ~100 us a call and a fit
    # makes dozens of calls, which would make 10k labels take most of a minute.
    top = logits.max()
    return float(top + np.log(np.exp(logits - top).sum()))


def _fit_exp_linear(offsets: np.ndarray) -> np.ndarray:
    """Mean only, with features ``z - mean``: the dual's gradient E_l[z - mean] rises monotonically in l,
    so bracket its root and let Brent find it."""
    features = offsets[:, None]

    def mean_gap(lam: float) -> float:
        return float(_gibbs(np.array([lam]), features) @ offsets)

    low, high = -1.0, 1.0
    # Means near an end need large lambdas: widen the bracket until it straddles the root.
    while mean_gap(low) > 0:
        low *= 2
    while mean_gap(high) < 0:
        high *= 2
    lam = _scipy().optimize.root_scalar(mean_gap, bracket=(low, high), method="brentq", xtol=1e-14, rtol=1e-15).root
    return _gibbs(np.array([lam]), features)


def _fit_exp_quadratic(z: np.ndarray, z_mean: float, z_std: float) -> np.ndarray:
    """Mean and std. The features are the scores standardised by the targets, u = (z - mean) / std, so the
    targets are E[u] = 0 and E[u^2] = 1: residuals measure the misses directly (no cancellation when the
    std is tiny) and the Hessian is near the identity for Gaussian-like solutions."""
    u = (z - z_mean) / z_std
    features = np.stack([u, u * u], axis=1)
    targets = np.array([0.0, 1.0])
    # A Gaussian with these moments is exp(quadratic) too, so its lambdas are a close start. Widths below the
    # bucket spacing would start on a plateau where every bucket but one has no mass.
    start_width = max(z_std, z[1] - z[0]) / z_std
    start = np.array([0.0, -0.5 / start_width**2])
    theta = _root_on_gradient(features, targets, start)
    if theta is None:
        theta = _minimise_dual(features, targets, start)
    return _gibbs(_newton_polish(features, targets, theta), features)


def _gradient_and_hessian(theta: np.ndarray, features: np.ndarray,
                          targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The dual's gradient (moments minus targets) and Hessian (covariance of the features)."""
    p = _gibbs(theta, features)
    expected = features.T @ p
    covariance = (features.T * p) @ features - np.outer(expected, expected)
    return expected - targets, covariance


def _root_on_gradient(features: np.ndarray, targets: np.ndarray, start: np.ndarray) -> np.ndarray | None:
    """MINPACK's hybrid method on the gradient: fast from a good start, but not guaranteed, hence the check."""
    result = _scipy().optimize.root(_gradient_and_hessian, start, args=(features, targets), jac=True, method="hybr",
                           options={"xtol": 1e-8})
    if not result.success or not np.abs(result.fun).max() < 1e-6:
        return None
    return result.x


def _minimise_dual(features: np.ndarray, targets: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The dual is convex, so a trust-region Newton method reaches its minimum from any start."""
    def dual(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value = _log_partition(features @ theta) - theta @ targets
        return value, _gradient_and_hessian(theta, features, targets)[0]

    def hessian(theta: np.ndarray) -> np.ndarray:
        return _gradient_and_hessian(theta, features, targets)[1]

    result = _scipy().optimize.minimize(dual, start, jac=True, hess=hessian, method="trust-exact",
                               options={"gtol": 1e-12, "maxiter": 1000})
    return result.x


def _newton_polish(features: np.ndarray, targets: np.ndarray, theta: np.ndarray, steps: int = 8) -> np.ndarray:
    """Plain Newton steps on the moment residual, kept while they shrink it: near the bounds the dual is so
    flat that a minimiser stops on its function value before the moments are exact."""
    gradient, hessian = _gradient_and_hessian(theta, features, targets)
    for _ in range(steps):
        if not np.abs(gradient).max() > 1e-15:
            break
        # lstsq, not solve: near the bounds the two features are almost collinear on the remaining mass.
        candidate = theta - np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        new_gradient, new_hessian = _gradient_and_hessian(candidate, features, targets)
        if not np.abs(new_gradient).max() < np.abs(gradient).max():
            break
        theta, gradient, hessian = candidate, new_gradient, new_hessian
    return theta


def _verify_moments(p: np.ndarray, scores: np.ndarray, mean: float, std: float | None) -> None:
    fitted_mean, fitted_std = distribution_moments(p, scores)
    missed_std = std is not None and abs(fitted_std - std) > MOMENT_TOLERANCE
    if abs(fitted_mean - mean) > MOMENT_TOLERANCE or missed_std:
        raise LabelError(
            f"maxent label: could not fit mean {mean:.9g}" + (f" and std {std:.9g}" if std is not None else "")
            + f" on scores {scores[0]:g}..{scores[-1]:g} (got mean {fitted_mean:.9g}, std {fitted_std:.9g})"
        )


# -- gaussian ------------------------------------------------------------------------------------------------
def gaussian_distribution(mean: float | np.ndarray, std: float | np.ndarray,
                          score_values: np.ndarray | Sequence) -> np.ndarray:
    """The mass of N(mean, std) in each bucket, renormalised to sum to 1.

    Bucket k spans the midpoints between score k and its neighbours; the outer buckets stop half a spacing
    past the ends (the normal is truncated there, not piled into the end buckets). ``mean`` and ``std`` may
    be arrays of n values, giving (n, k).
    """
    scores = _checked_scores(score_values)
    mean = np.asarray(mean, dtype=np.float64)[..., None]
    std = np.asarray(std, dtype=np.float64)[..., None]
    if not np.isfinite(mean).all():
        raise LabelError("gaussian label: every mean must be a finite number")
    if not (std > 0).all() or not np.isfinite(std).all():
        raise LabelError(f"gaussian label: std must be positive and finite, got {std.min():g}")
    midpoints = (scores[1:] + scores[:-1]) / 2
    edges = np.concatenate([[1.5 * scores[0] - 0.5 * scores[1]], midpoints, [1.5 * scores[-1] - 0.5 * scores[-2]]])
    # Upper tails from the survival function: a difference of two CDFs near 1 would lose all its digits.
    below = _scipy().stats.norm.cdf(edges[1:], mean, std) - _scipy().stats.norm.cdf(edges[:-1], mean, std)
    above = _scipy().stats.norm.sf(edges[:-1], mean, std) - _scipy().stats.norm.sf(edges[1:], mean, std)
    mass = np.where(edges[:-1] < mean, below, above)
    return mass / mass.sum(axis=-1, keepdims=True)


# -- many rows -----------------------------------------------------------------------------------------------
def distributions_from_moments(means: np.ndarray | Sequence, stds: np.ndarray | Sequence | None,
                               score_values: np.ndarray | Sequence, strategy: str, *,
                               row_names: Sequence[str] | None = None) -> np.ndarray:
    """(n, k) distributions from per-row means (and stds) with one of :data:`MOMENT_STRATEGIES`.

    Errors name the row by ``row_names[i]`` when given, else by its position.
    """
    if strategy not in MOMENT_STRATEGIES:
        raise LabelError(f"unknown label strategy {strategy!r}; choose from {', '.join(MOMENT_STRATEGIES)}")
    scores = _checked_scores(score_values)
    means = np.asarray(means, dtype=np.float64).reshape(-1)
    if stds is not None:
        stds = np.asarray(stds, dtype=np.float64).reshape(-1)
        if len(stds) != len(means):
            raise LabelError(f"got {len(means)} means but {len(stds)} stds")
    elif strategy != "maxent-mean":
        raise LabelError(f"label strategy {strategy!r} needs a std for every row")
    _check_targets(means, stds, scores, lambda i: _row_name(i, row_names), ends_allowed=strategy == "gaussian")
    if strategy == "gaussian":
        if not (stds > 0).all():
            first = int(np.flatnonzero(~(stds > 0))[0])
            raise LabelError(f"{_row_name(first, row_names)}: gaussian label needs std > 0, got {stds[first]:g}")
        return gaussian_distribution(means, stds, scores)
    if strategy == "maxent-mean":
        return _maxent_rows(means, None, scores)
    return _maxent_rows(means, _clamped_stds(means, stds, scores, row_names), scores)


def _clamped_stds(means: np.ndarray, stds: np.ndarray, scores: np.ndarray,
                  row_names: Sequence[str] | None) -> np.ndarray:
    """Each std clamped into its solvable band, with one warning for all the rows that needed it."""
    solvable = _solvable_stds(means, stds, scores)
    clamped = np.flatnonzero(solvable != stds)
    if len(clamped):
        first = int(clamped[0])
        warnings.warn(
            f"maxent-mean-std labels: {len(clamped)} of {len(means)} rows had a std their mean cannot reach "
            f"and were clamped; the first, {_row_name(first, row_names)}: "
            + _clamp_message(means[first], stds[first], solvable[first], scores),
            stacklevel=3,
        )
    return solvable


def _maxent_rows(means: np.ndarray, stds: np.ndarray | None, scores: np.ndarray) -> np.ndarray:
    """Fit each distinct target once: repeated MOS values are common and each fit costs a solver call."""
    targets = means[:, None] if stds is None else np.stack([means, stds], axis=1)
    unique, inverse = np.unique(targets, axis=0, return_inverse=True)
    fitted = [_fit_maxent(row[0], None if stds is None else row[1], scores) for row in unique]
    return np.array(fitted).reshape(len(unique), len(scores))[inverse.reshape(-1)]
