"""Keras and PyTorch kernels give the same loss and the same gradient with respect to the logits.

The NIMA head ends in a softmax, so what training sees is d loss / d logits through softmax then the loss.
PyTorch runs in a child process: TensorFlow and PyTorch must never share one (tensorflow then triton
segfaults). Skipped, with the reason, where torch or the nimabench-timm plugin is not installed.
"""

import importlib.util
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from nimabench_keras.kernels import KERNELS

TORCH_SIDE = """
import sys
import numpy as np
import torch
from nimabench_timm.kernels import KERNELS

inputs = np.load(sys.argv[1])
results = {}
for name, kernel in KERNELS.items():
    logits = torch.tensor(inputs["logits"], dtype=torch.float64, requires_grad=True)
    target = torch.tensor(inputs["target"], dtype=torch.float64)
    loss = kernel(torch.softmax(logits, dim=-1), target, inputs["scores"]).mean()
    loss.backward()
    results[name + ".value"] = loss.detach().numpy()
    results[name + ".gradient"] = logits.grad.numpy()
np.savez(sys.argv[2], **results)
"""

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None or importlib.util.find_spec("nimabench_timm") is None,
    reason="the cross-framework check needs torch and nimabench-timm (pip install -e plugins/nimabench-timm)",
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    rng = np.random.default_rng(7)
    folder = tmp_path_factory.mktemp("cross")
    target = rng.dirichlet(np.full(10, 0.8), size=32)
    target[:4, :2] = 0.0
    target /= target.sum(axis=1, keepdims=True)
    arrays = {"logits": rng.normal(0, 2, (32, 10)), "target": target, "scores": np.arange(1.0, 11.0)}
    np.savez(folder / "inputs.npz", **arrays)
    subprocess.run([sys.executable, "-c", TORCH_SIDE, str(folder / "inputs.npz"), str(folder / "torch.npz")],
                   check=True, capture_output=True, text=True)
    return arrays, dict(np.load(folder / "torch.npz"))


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_value_and_logit_gradient_match_torch(inputs, name):
    arrays, torch_results = inputs
    logits = tf.Variable(arrays["logits"], dtype=tf.float64)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(KERNELS[name](tf.nn.softmax(logits), tf.constant(arrays["target"]), arrays["scores"]))
    gradient = tape.gradient(loss, logits).numpy()
    np.testing.assert_allclose(float(loss), torch_results[f"{name}.value"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gradient, torch_results[f"{name}.gradient"], rtol=1e-8, atol=1e-12)
    assert np.abs(gradient).max() > 0  # a real comparison, not of two zero arrays
