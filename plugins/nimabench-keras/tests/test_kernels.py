"""Every Keras loss kernel equals its NumPy reference to 1e-6 in float64, and EMD's gradient stays finite."""

import numpy as np
import pytest
import tensorflow as tf

from nimabench.plugins import collect
from nimabench_keras.kernels import KERNELS

SCORES = np.arange(1.0, 11.0)


def distributions(n: int, seed: int) -> np.ndarray:
    """Random rating distributions, some with exact zeros (the clip and CDF edges)."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.full(len(SCORES), 0.7), size=n)
    p[: n // 4, : 3] = 0.0
    return p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_kernel_equals_the_numpy_reference(name):
    loss = collect("loss").get(name)
    pred, target = distributions(64, 1), distributions(64, 2)
    kernel = loss.kernel("keras")
    got = kernel(tf.constant(pred, tf.float64), tf.constant(target, tf.float64), SCORES).numpy()
    np.testing.assert_allclose(got, loss(pred, target, SCORES), rtol=0, atol=1e-6)
    assert got.shape == (64,)


def test_emd_gradient_is_finite_for_a_perfect_prediction():
    target = tf.constant(distributions(4, 3), tf.float64)
    pred = tf.Variable(target)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(KERNELS["emd"](pred, target, SCORES))
    gradient = tape.gradient(loss, pred).numpy()
    assert np.isfinite(gradient).all() and float(loss) < 1e-14


def test_kernels_run_in_float32_with_a_float64_score_array():
    pred = tf.constant(distributions(8, 4), tf.float32)
    for kernel in KERNELS.values():
        assert kernel(pred, pred, SCORES).dtype == tf.float32
