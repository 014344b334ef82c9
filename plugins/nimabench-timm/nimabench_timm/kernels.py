"""PyTorch kernels of the built-in losses: ``kernel(pred, target, score_values) -> per-sample losses``.

Each mirrors its NumPy reference in :mod:`nimabench.losses` (the definition) and must equal it to 1e-6 in
float64; ``tests/test_kernels.py`` checks that on random Dirichlet inputs with zeros, and gradchecks EMD.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from nimabench.losses import EPSILON

Kernel = Callable[[torch.Tensor, torch.Tensor, "torch.Tensor | np.ndarray"], torch.Tensor]

# sqrt'(0) is infinite; a perfect prediction would give NaN gradients. Below this mean squared CDF gap the
# gradient is cut to zero, and the value moves by at most sqrt(SQRT_FLOOR) = 1e-15.
SQRT_FLOOR = 1e-30


def _scores(score_values: torch.Tensor | np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(score_values, dtype=like.dtype, device=like.device)


def _cdf_gap(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.cumsum(pred, dim=-1) - torch.cumsum(target, dim=-1)


def emd2(pred: torch.Tensor, target: torch.Tensor, score_values) -> torch.Tensor:
    return torch.sqrt(torch.clamp(_cdf_gap(pred, target).square().mean(dim=-1), min=SQRT_FLOOR))


def emd1(pred: torch.Tensor, target: torch.Tensor, score_values) -> torch.Tensor:
    return _cdf_gap(pred, target).abs().mean(dim=-1)


def categorical_cross_entropy(pred: torch.Tensor, target: torch.Tensor, score_values) -> torch.Tensor:
    return -(target * torch.log(torch.clamp(pred, EPSILON, 1.0))).sum(dim=-1)


def mean_score_squared_error(pred: torch.Tensor, target: torch.Tensor, score_values) -> torch.Tensor:
    scores = _scores(score_values, pred)
    span = scores[-1] - scores[0]
    return (((pred - target) @ scores) / span).square()


def cumulative_binary_cross_entropy(pred: torch.Tensor, target: torch.Tensor, score_values) -> torch.Tensor:
    pred_cdf = torch.clamp(torch.cumsum(pred, dim=-1)[..., :-1], EPSILON, 1 - EPSILON)
    target_cdf = torch.clamp(torch.cumsum(target, dim=-1)[..., :-1], 0.0, 1.0)
    bce = -(target_cdf * torch.log(pred_cdf) + (1 - target_cdf) * torch.log(1 - pred_cdf))
    return bce.mean(dim=-1)


KERNELS: dict[str, Kernel] = {
    "emd": emd2,
    "emd1": emd1,
    "cce": categorical_cross_entropy,
    "mse-mean": mean_score_squared_error,
    "cbce": cumulative_binary_cross_entropy,
}
