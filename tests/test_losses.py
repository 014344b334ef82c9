"""The built-in losses' NumPy references, checked against hand-computed values."""

import numpy as np
import pytest

from nimabench.losses import EPSILON
from nimabench.plugins import collect

SCORES = np.arange(1.0, 6.0)  # a 5-bucket scale keeps the hand computations short
PRED = np.array([[0.1, 0.2, 0.4, 0.2, 0.1], [0.0, 0.0, 0.0, 0.0, 1.0]])
TARGET = np.array([[0.0, 0.2, 0.6, 0.2, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0]])


def loss(name):
    return collect("loss").get(name)


def test_emd_is_per_sample_with_r2_and_r1():
    # CDF differences, sample 0: [0.1, 0.1, -0.1, -0.1, 0]; sample 1: [-1, -1, -1, -1, 0]
    np.testing.assert_allclose(loss("emd")(PRED, TARGET, SCORES), [np.sqrt(0.04 / 5), np.sqrt(4 / 5)])
    np.testing.assert_allclose(loss("emd1")(PRED, TARGET, SCORES), [0.4 / 5, 4 / 5])


def test_cce_is_safe_at_zero():
    values = loss("cce")(PRED, TARGET, SCORES)
    expected0 = -(0.2 * np.log(0.2) + 0.6 * np.log(0.4) + 0.2 * np.log(0.2))
    np.testing.assert_allclose(values, [expected0, -np.log(EPSILON)])
    assert np.all(np.isfinite(values))


def test_mse_mean_uses_the_mean_score_on_a_unit_scale():
    # means: pred 3.0 vs target 3.0; pred 5.0 vs target 1.0 -> (4 / 4)^2
    np.testing.assert_allclose(loss("mse-mean")(PRED, TARGET, SCORES), [0.0, 1.0], atol=1e-12)


def test_cumulative_bce_is_zero_only_for_a_perfect_hard_prediction():
    hard = np.array([[0.0, 0.0, 1.0, 0.0, 0.0]])
    assert loss("cbce")(hard, hard, SCORES)[0] == pytest.approx(0.0, abs=1e-6)
    values = loss("cbce")(PRED, TARGET, SCORES)
    pred_cdf = np.clip(np.cumsum(PRED[0])[:-1], EPSILON, 1 - EPSILON)
    target_cdf = np.cumsum(TARGET[0])[:-1]
    expected = -np.mean(target_cdf * np.log(pred_cdf) + (1 - target_cdf) * np.log(1 - pred_cdf))
    assert values[0] == pytest.approx(expected)
    assert values[1] > values[0]


@pytest.mark.parametrize("name", ["emd", "emd1", "cce", "mse-mean", "cbce"])
def test_every_loss_is_smallest_at_the_target(name):
    rng = np.random.default_rng(0)
    target = rng.dirichlet(np.ones(5), size=50)
    other = rng.dirichlet(np.ones(5), size=50)
    assert np.all(loss(name)(target, target, SCORES) <= loss(name)(other, target, SCORES) + 1e-12)
