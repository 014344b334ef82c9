import math
import warnings

import numpy as np
import pytest
from scipy import stats

from nimabench.errors import MetricError
from nimabench.metrics import (
    binary_accuracy,
    emd,
    emd_per_sample,
    evaluate,
    krcc,
    plcc,
    rmse,
    srcc,
)

ONE_TO_TEN = np.arange(1.0, 11.0)


@pytest.fixture
def scores():
    rng = np.random.default_rng(7)
    true = rng.normal(5, 1, 200)
    pred = true + rng.normal(0, 0.8, 200)
    return np.round(pred, 1), np.round(true, 1)  # rounding makes ties, as bucketed scores have


def random_distributions(rng, n, k=10):
    return rng.dirichlet(np.ones(k), size=n)


# -- correlations --------------------------------------------------------------------------------------------
def test_correlations_match_scipy(scores):
    pred, true = scores
    assert srcc(pred, true) == pytest.approx(stats.spearmanr(pred, true).statistic, rel=1e-12)
    assert plcc(pred, true) == pytest.approx(stats.pearsonr(pred, true).statistic, rel=1e-12)
    assert krcc(pred, true) == pytest.approx(stats.kendalltau(pred, true, variant="b").statistic, rel=1e-12)
    assert isinstance(srcc(pred, true), float)


def test_correlations_by_hand():
    assert srcc([1, 2, 3, 4], [10, 20, 30, 400]) == pytest.approx(1.0)  # monotone, not linear
    assert plcc([1, 2, 3, 4], [10, 20, 30, 400]) < 0.9
    assert krcc([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert plcc([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)


@pytest.mark.parametrize("metric", [srcc, plcc, krcc])
@pytest.mark.parametrize("constant_side", ["pred", "true"])
def test_constant_input_gives_nan_with_a_clear_warning(metric, constant_side):
    varied, constant = [1.0, 2.0, 3.0, 4.0], [5.0, 5.0, 5.0, 5.0]
    pred, true = (constant, varied) if constant_side == "pred" else (varied, constant)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = metric(pred, true)
    assert math.isnan(value)
    assert len(caught) == 1  # ours only, not scipy's as well
    assert "constant" in str(caught[0].message)
    assert ("predictions" if constant_side == "pred" else "true values") in str(caught[0].message)


@pytest.mark.parametrize("metric", [srcc, plcc, krcc, rmse])
def test_mismatched_lengths_are_errors(metric):
    with pytest.raises(MetricError, match="3 predictions but 2"):
        metric([1, 2, 3], [1, 2])


@pytest.mark.parametrize("metric", [srcc, plcc, krcc])
def test_fewer_than_two_samples_are_errors(metric):
    with pytest.raises(MetricError, match="at least 2"):
        metric([1.0], [2.0])


def test_nan_predictions_are_errors():
    with pytest.raises(MetricError, match="1 predictions are NaN"):
        srcc([1.0, float("nan"), 3.0], [1.0, 2.0, 3.0])


# -- EMD -----------------------------------------------------------------------------------------------------
PRED = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
TRUE = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])
# Sample 0: CDFs (0.5, 1, 1) and (0, 0.5, 1) differ by (0.5, 0.5, 0); sample 1 is identical.


def test_emd_per_sample_by_hand():
    np.testing.assert_allclose(emd_per_sample(PRED, TRUE, r=1), [1 / 3, 0])
    np.testing.assert_allclose(emd_per_sample(PRED, TRUE, r=2), [math.sqrt(0.5 / 3), 0])


def test_emd_is_the_mean_of_per_sample_values_not_the_root_of_a_batch_mean():
    per_sample_mean = (math.sqrt(1 / 6) + 0) / 2
    root_of_batch_mean = math.sqrt((1 / 6 + 0) / 2)  # what one reference implementation computed
    assert emd(PRED, TRUE, r=2) == pytest.approx(per_sample_mean)
    assert emd(PRED, TRUE, r=2) != pytest.approx(root_of_batch_mean)
    assert emd(PRED, TRUE, r=1) == pytest.approx(1 / 6)


def test_emd_is_symmetric_and_zero_on_itself():
    rng = np.random.default_rng(0)
    p, q = random_distributions(rng, 50), random_distributions(rng, 50)
    np.testing.assert_allclose(emd_per_sample(p, q), emd_per_sample(q, p))
    np.testing.assert_allclose(emd_per_sample(p, p), 0)


def test_emd_needs_matching_shapes_and_positive_r():
    with pytest.raises(MetricError, match="must both be"):
        emd(PRED, TRUE[:, :2])
    with pytest.raises(MetricError, match="r must be positive"):
        emd(PRED, TRUE, r=0)


# -- RMSE and accuracy ---------------------------------------------------------------------------------------
def test_rmse_by_hand():
    assert rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(math.sqrt(4 / 3))


def test_accuracy_at_the_threshold():
    # A score exactly at the threshold is "low" on both sides.
    pred = [5.0, 5.1, 4.0, 6.0, 5.0]
    true = [5.0, 6.0, 4.9, 4.0, 5.01]
    # agree, agree, agree, disagree (6 high, 4 low), disagree (5.0 low, 5.01 high)
    assert binary_accuracy(pred, true, threshold=5) == pytest.approx(3 / 5)


# -- evaluate ------------------------------------------------------------------------------------------------
def test_evaluate_reports_every_metric_from_the_moments():
    rng = np.random.default_rng(1)
    true = random_distributions(rng, 80)
    pred = 0.5 * true + 0.5 * random_distributions(rng, 80)
    result = evaluate(pred, true, ONE_TO_TEN, accuracy_threshold=5)
    assert set(result) == {"srcc", "plcc", "krcc", "srcc_std", "plcc_std", "emd1", "emd2", "rmse", "accuracy"}
    pred_mean, true_mean = pred @ ONE_TO_TEN, true @ ONE_TO_TEN
    pred_std = np.sqrt(((ONE_TO_TEN - pred_mean[:, None]) ** 2 * pred).sum(axis=1))
    true_std = np.sqrt(((ONE_TO_TEN - true_mean[:, None]) ** 2 * true).sum(axis=1))
    assert result["srcc"] == pytest.approx(stats.spearmanr(pred_mean, true_mean).statistic)
    assert result["krcc"] == pytest.approx(stats.kendalltau(pred_mean, true_mean).statistic)
    assert result["plcc_std"] == pytest.approx(stats.pearsonr(pred_std, true_std).statistic)
    assert result["srcc_std"] == pytest.approx(stats.spearmanr(pred_std, true_std).statistic)
    assert result["emd1"] == pytest.approx(emd(pred, true, r=1))
    assert result["emd2"] == pytest.approx(emd(pred, true, r=2))
    assert result["rmse"] == pytest.approx(np.sqrt(np.mean((pred_mean - true_mean) ** 2)))
    assert result["accuracy"] == pytest.approx(np.mean((pred_mean > 5) == (true_mean > 5)))


def test_evaluate_of_a_perfect_model():
    rng = np.random.default_rng(2)
    true = random_distributions(rng, 30)
    result = evaluate(true, true, ONE_TO_TEN, accuracy_threshold=5)
    assert result["srcc"] == pytest.approx(1) and result["plcc_std"] == pytest.approx(1)
    assert result["emd2"] == 0 and result["rmse"] == 0 and result["accuracy"] == 1


def test_evaluate_without_threshold_has_no_accuracy():
    rng = np.random.default_rng(3)
    true = random_distributions(rng, 10)
    assert "accuracy" not in evaluate(true, true, ONE_TO_TEN)


def test_evaluate_checks_shapes():
    rng = np.random.default_rng(4)
    with pytest.raises(MetricError, match="must both be"):
        evaluate(random_distributions(rng, 5), random_distributions(rng, 6), ONE_TO_TEN)
    with pytest.raises(MetricError, match="9 buckets but there are 10"):
        evaluate(random_distributions(rng, 5, k=9), random_distributions(rng, 5, k=9), ONE_TO_TEN)
