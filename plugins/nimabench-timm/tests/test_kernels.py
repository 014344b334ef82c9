"""The torch loss kernels equal the NumPy references (the definitions) and have usable gradients."""

import numpy as np
import pytest
import torch

from nimabench.plugins import collect
from nimabench_timm.kernels import KERNELS
from nimabench_timm.plugin import LOSSES_WITH_KERNELS

BUILTIN_LOSSES = ["emd", "emd1", "cce", "mse-mean", "cbce"]


def dirichlet_with_zeros(rng: np.random.Generator, n: int, buckets: int) -> np.ndarray:
    """Random distributions, a quarter of the entries forced to exactly zero, plus one-hot rows."""
    values = rng.dirichlet(np.full(buckets, 0.7), size=n)
    values[rng.random(values.shape) < 0.25] = 0.0
    values[:, 0] += values.sum(axis=1) == 0  # a row emptied by the zeros becomes a one-hot
    values /= values.sum(axis=1, keepdims=True)
    values[:3] = np.eye(buckets)[[0, buckets // 2, buckets - 1]]
    return values


@pytest.mark.parametrize("scores", [np.arange(1.0, 11.0), np.arange(0.0, 10.0), np.arange(1.0, 6.0)])
@pytest.mark.parametrize("name", BUILTIN_LOSSES)
def test_kernel_equals_reference_in_float64(name, scores):
    rng = np.random.default_rng(len(scores) * 7 + BUILTIN_LOSSES.index(name))
    pred = dirichlet_with_zeros(rng, 200, len(scores))
    target = dirichlet_with_zeros(rng, 200, len(scores))
    target[-5:] = pred[-5:]  # perfect predictions: EMD 0 exactly
    loss = collect("loss").get(name)
    expected = loss(pred, target, scores)
    kernel = loss.kernel("torch")
    got = kernel(torch.from_numpy(pred), torch.from_numpy(target), scores)
    assert got.dtype == torch.float64 and got.shape == (200,)
    np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=1e-6)


def test_every_builtin_loss_has_a_registered_torch_kernel():
    losses = collect("loss")
    assert set(LOSSES_WITH_KERNELS) == set(BUILTIN_LOSSES)
    for name in BUILTIN_LOSSES:
        assert losses.get(name).kernels["torch"].plugin == "timm"
        assert losses.get(name).kernel("torch") is KERNELS[name]


def test_kernels_take_score_values_as_tensor_or_array():
    pred = torch.tensor([[0.2, 0.3, 0.5]], dtype=torch.float64)
    target = torch.tensor([[0.5, 0.3, 0.2]], dtype=torch.float64)
    scores = np.array([1.0, 2.0, 3.0])
    as_array = KERNELS["mse-mean"](pred, target, scores)
    as_tensor = KERNELS["mse-mean"](pred, target, torch.from_numpy(scores))
    assert torch.equal(as_array, as_tensor)


def _softmax_inputs(seed: int, n: int = 6, buckets: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, buckets, dtype=torch.float64, generator=generator, requires_grad=True)
    target = torch.distributions.Dirichlet(torch.ones(buckets, dtype=torch.float64)).sample((n,))
    return logits, target


@pytest.mark.parametrize("name", ["emd", "cce", "mse-mean", "cbce"])
def test_gradcheck_through_the_softmax(name):
    torch.manual_seed(0)
    logits, target = _softmax_inputs(seed=1)
    scores = torch.arange(1.0, 11.0, dtype=torch.float64)
    kernel = KERNELS[name]
    assert torch.autograd.gradcheck(lambda x: kernel(torch.softmax(x, -1), target, scores), (logits,))


def test_gradcheck_emd_on_probabilities():
    torch.manual_seed(0)
    pred = torch.distributions.Dirichlet(torch.ones(10, dtype=torch.float64)).sample((8,)).requires_grad_()
    target = torch.distributions.Dirichlet(torch.ones(10, dtype=torch.float64)).sample((8,))
    assert torch.autograd.gradcheck(lambda p: KERNELS["emd"](p, target, None), (pred,))


def test_emd_gradient_is_finite_at_a_perfect_prediction():
    pred = torch.tensor([[0.1, 0.2, 0.7]], dtype=torch.float32, requires_grad=True)
    KERNELS["emd"](pred, pred.detach().clone(), None).sum().backward()
    assert torch.isfinite(pred.grad).all()
