import math
import warnings

import numpy as np
import pytest
from scipy import stats

from nimabench.errors import LabelError
from nimabench.labels import (
    LABEL_STRATEGIES,
    distribution_moments,
    distributions_from_moments,
    feasible_std_range,
    gaussian_distribution,
    map_scale,
    maxent_distribution,
    votes_to_distribution,
)

ZERO_TO_NINE = np.arange(10.0)
ONE_TO_TEN = np.arange(1.0, 11.0)


def moments(p, scores):
    """Moments computed independently of the module under test."""
    mean = sum(pk * sk for pk, sk in zip(p, scores, strict=True))
    return mean, math.sqrt(sum(pk * (sk - mean) ** 2 for pk, sk in zip(p, scores, strict=True)))


def std_bounds(mean, scores):
    below = max(s for s in scores if s <= mean)
    above = min(s for s in scores if s > mean)
    return math.sqrt((mean - below) * (above - mean)), math.sqrt((mean - scores[0]) * (scores[-1] - mean))


def test_strategies_are_named():
    assert LABEL_STRATEGIES == ("votes", "maxent-mean", "maxent-mean-std", "gaussian")


# -- votes ---------------------------------------------------------------------------------------------------
def test_votes_become_probabilities():
    p = votes_to_distribution([[1, 0, 3], [2, 2, 0]])
    np.testing.assert_allclose(p, [[0.25, 0, 0.75], [0.5, 0.5, 0]])
    assert p.dtype == np.float64


def test_a_single_row_of_votes_stays_one_dimensional():
    np.testing.assert_allclose(votes_to_distribution([1, 1, 2]), [0.25, 0.25, 0.5])


def test_a_row_without_votes_is_named():
    with pytest.raises(LabelError, match="row 1"):
        votes_to_distribution([[1, 2], [0, 0]])
    with pytest.raises(LabelError, match="953619"):
        votes_to_distribution([[1, 2], [0, 0]], row_names=["953417", "953619"])


@pytest.mark.parametrize("bad", [[1, -1, 3], [1, float("nan"), 3], [1, float("inf"), 3]])
def test_negative_or_missing_votes_are_errors(bad):
    with pytest.raises(LabelError, match="img_b"):
        votes_to_distribution([[1, 1, 1], bad], row_names=["img_a", "img_b"])


# -- moments and scales --------------------------------------------------------------------------------------
def test_moments_by_hand():
    mean, std = distribution_moments([0.2, 0.3, 0.5], [1, 2, 3])
    assert mean == pytest.approx(2.3)  # 0.2 + 0.6 + 1.5
    assert std == pytest.approx(math.sqrt(0.2 * 1.3**2 + 0.3 * 0.3**2 + 0.5 * 0.7**2))


def test_moments_of_many_rows():
    mean, std = distribution_moments([[1, 0, 0], [0.5, 0, 0.5]], [1, 2, 3])
    np.testing.assert_allclose(mean, [1, 2])
    np.testing.assert_allclose(std, [0, 1])


def test_moments_need_one_probability_per_score():
    with pytest.raises(LabelError, match="buckets"):
        distribution_moments([0.5, 0.5], [1, 2, 3])


def test_map_scale():
    np.testing.assert_allclose(map_scale([0, 50, 100], (0, 100), (1, 10)), [1, 5.5, 10])
    np.testing.assert_allclose(map_scale(1, (1, 5), (0, 9)), 0)
    with pytest.raises(LabelError):
        map_scale(3, (2, 2), (0, 1))


def test_feasible_std_range_by_hand():
    assert feasible_std_range(2.5, ZERO_TO_NINE) == pytest.approx((0.5, math.sqrt(2.5 * 6.5)))
    assert feasible_std_range(4.0, ZERO_TO_NINE)[0] == 0  # a delta on a support point


# -- maximum entropy -----------------------------------------------------------------------------------------
def maxent_targets(n, rng):
    """(scores, mean, std, feasible) over both scales, with near-end means, mean 7, and stds outside the band."""
    for i in range(n):
        scores = ZERO_TO_NINE if i % 2 else ONE_TO_TEN
        low_end, high_end = scores[0], scores[-1]
        near_end = 10 ** rng.uniform(-6, 0)
        mean = [low_end + 1e-3, high_end - 1e-3, low_end + near_end, high_end - near_end, 7.0,
                *rng.uniform(low_end, high_end, 3)][i % 8]
        low, high = std_bounds(mean, list(scores))
        kind = rng.choice(["inside", "inside", "inside", "below", "above"])
        if kind == "inside":
            yield scores, mean, low + rng.uniform(0.01, 0.99) * (high - low), True
        elif kind == "below":
            yield scores, mean, low * rng.uniform(0, 0.999), False
        else:
            yield scores, mean, high * rng.uniform(1.001, 2), False


def test_maxent_hits_mean_and_std_over_1000_targets():
    rng = np.random.default_rng(2013)
    infeasible = 0
    for scores, mean, std, feasible in maxent_targets(1000, rng):
        if feasible:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a feasible std is never clamped
                p = maxent_distribution(mean, scores, std)
            expected_std = std
        else:
            infeasible += 1
            with pytest.warns(UserWarning, match="clamped"):
                p = maxent_distribution(mean, scores, std)
            low, high = std_bounds(mean, list(scores))
            expected_std = low if abs(std - low) < abs(std - high) else high
        fitted_mean, fitted_std = moments(p, scores)
        assert fitted_mean == pytest.approx(mean, abs=1e-6), (mean, std)
        assert np.all(p >= 0) and p.sum() == pytest.approx(1)
        if feasible:
            assert fitted_std == pytest.approx(std, abs=1e-6), (mean, std)
        else:  # the nearest feasible value, give or take the small margin kept from the bound
            assert fitted_std == pytest.approx(expected_std, abs=1e-3 * (high - low) + 1e-6), (mean, std)
    assert infeasible > 200


def test_maxent_has_the_exp_quadratic_shape():
    p = maxent_distribution(3.2, ZERO_TO_NINE, 1.1)
    # log p is a quadratic in s: its third differences vanish.
    np.testing.assert_allclose(np.diff(np.log(p), 3), 0, atol=1e-8)


@pytest.mark.parametrize("mean", [0.001, 8.999, 1e-7, 9 - 1e-7, 3.0, 4.5, 7.0, 7.3])
def test_mean_only_maxent_is_exp_linear_and_hits_the_mean(mean):
    p = maxent_distribution(mean, ZERO_TO_NINE)
    assert moments(p, ZERO_TO_NINE)[0] == pytest.approx(mean, abs=1e-6)
    steps = np.diff(np.log(p))
    np.testing.assert_allclose(steps, steps[0], rtol=1e-6, atol=1e-9)  # log p is linear in s


def test_mean_only_maxent_is_not_uniform_at_7():
    p = maxent_distribution(7.0, ZERO_TO_NINE)
    assert not np.allclose(p, 0.1, atol=1e-3)  # what idealo's solver returned
    assert np.all(np.diff(p) > 0)  # a mean above the middle leans up


@pytest.mark.parametrize("mean", [0.0, 9.0, -0.5, 9.5, float("nan")])
def test_maxent_refuses_means_at_or_beyond_the_ends(mean):
    with pytest.raises(LabelError, match="mean"):
        maxent_distribution(mean, ZERO_TO_NINE)
    with pytest.raises(LabelError, match="mean"):
        maxent_distribution(mean, ZERO_TO_NINE, 1.0)


def test_maxent_refuses_a_negative_std():
    with pytest.raises(LabelError, match="std"):
        maxent_distribution(4.0, ZERO_TO_NINE, -1.0)


def test_clamping_warning_names_mean_and_std():
    with pytest.warns(UserWarning, match=r"std 5 for mean 1 .*clamped to 2\.8"):
        maxent_distribution(1.0, ZERO_TO_NINE, 5.0)  # the largest std at mean 1 is sqrt(1 * 8)


# -- gaussian ------------------------------------------------------------------------------------------------
def test_gaussian_is_the_normal_mass_between_midpoints():
    scores = np.array([1.0, 2.0, 3.0])
    edges = [0.5, 1.5, 2.5, 3.5]
    mass = np.diff(stats.norm.cdf(edges, loc=1.8, scale=0.7))
    np.testing.assert_allclose(gaussian_distribution(1.8, 0.7, scores), mass / mass.sum())


def test_gaussian_is_symmetric_about_the_middle_and_sums_to_one():
    p = gaussian_distribution(4.5, 1.5, ZERO_TO_NINE)
    np.testing.assert_allclose(p, p[::-1])
    assert p.sum() == pytest.approx(1)


def test_gaussian_keeps_far_tails():
    p = gaussian_distribution(0.5, 0.3, ZERO_TO_NINE)
    assert np.all(p > 0)  # survival function, not 1 - cdf, for buckets above the mean
    assert p[9] == pytest.approx(stats.norm.sf(8.5, 0.5, 0.3) - stats.norm.sf(9.5, 0.5, 0.3), rel=1e-6)


def test_gaussian_of_many_rows():
    p = gaussian_distribution([2.0, 6.0], [1.0, 2.0], ZERO_TO_NINE)
    assert p.shape == (2, 10)
    np.testing.assert_allclose(p[1], gaussian_distribution(6.0, 2.0, ZERO_TO_NINE))


@pytest.mark.parametrize("std", [0.0, -1.0])
def test_gaussian_needs_a_positive_std(std):
    with pytest.raises(LabelError, match="std"):
        gaussian_distribution(4.0, std, ZERO_TO_NINE)


# -- many rows -----------------------------------------------------------------------------------------------
def test_rows_match_the_single_fits():
    means, stds = [2.0, 7.0, 2.0], [1.0, 0.8, 1.0]
    np.testing.assert_allclose(distributions_from_moments(means, stds, ZERO_TO_NINE, "maxent-mean-std")[1],
                               maxent_distribution(7.0, ZERO_TO_NINE, 0.8))
    np.testing.assert_allclose(distributions_from_moments(means, None, ZERO_TO_NINE, "maxent-mean")[0],
                               maxent_distribution(2.0, ZERO_TO_NINE))
    np.testing.assert_allclose(distributions_from_moments(means, stds, ZERO_TO_NINE, "gaussian"),
                               gaussian_distribution(means, stds, ZERO_TO_NINE))


def test_rows_are_fitted_to_their_moments():
    rng = np.random.default_rng(0)
    means = rng.uniform(1.2, 4.8, 300)
    stds = np.array([np.mean(std_bounds(m, [1, 2, 3, 4, 5])) for m in means])
    p = distributions_from_moments(means, stds, [1, 2, 3, 4, 5], "maxent-mean-std")
    fitted_mean, fitted_std = distribution_moments(p, [1, 2, 3, 4, 5])
    np.testing.assert_allclose(fitted_mean, means, atol=1e-6)
    np.testing.assert_allclose(fitted_std, stds, atol=1e-6)


def test_unknown_strategy_lists_the_valid_ones():
    with pytest.raises(LabelError, match="maxent-mean, maxent-mean-std, gaussian"):
        distributions_from_moments([3.0], [1.0], ZERO_TO_NINE, "maxent")


def test_std_strategies_need_stds():
    with pytest.raises(LabelError, match="needs a std"):
        distributions_from_moments([3.0], None, ZERO_TO_NINE, "gaussian")


def test_a_bad_row_is_named():
    with pytest.raises(LabelError, match="i02_03_1.bmp"):
        distributions_from_moments([3.0, 9.0], None, ZERO_TO_NINE, "maxent-mean",
                                   row_names=["i01_01_1.bmp", "i02_03_1.bmp"])
    with pytest.raises(LabelError, match="row 1"):
        distributions_from_moments([3.0, 4.0], [1.0, 0.0], ZERO_TO_NINE, "gaussian")


def test_clamped_rows_give_one_warning_naming_the_first():
    with pytest.warns(UserWarning, match="2 of 3 rows.*row 1") as caught:
        distributions_from_moments([3.0, 1.0, 8.5], [1.0, 5.0, 3.0], ZERO_TO_NINE, "maxent-mean-std")
    assert len([w for w in caught if "clamped" in str(w.message)]) == 1

