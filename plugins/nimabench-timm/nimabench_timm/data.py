"""A trial's batches as torch tensors: the core's NumPy batches (:mod:`nimabench.trial_data`) moved to torch.

Pixels reach torch as uint8 NHWC and become an (N, 3, H, W) view, which is exactly the channels-last
layout, with no copy; moving uint8 to a GPU moves a quarter of the bytes of float32.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from nimabench.trial_data import Split, TrialData, numpy_batches
from nimabench_timm.prefetch import prefetched


def to_model_input(pixels: np.ndarray, device: torch.device, channels_last: bool = True) -> torch.Tensor:
    """uint8 NHWC pixels -> uint8 (N, 3, H, W) on ``device``, channels-last (a view) or contiguous NCHW."""
    tensor = torch.from_numpy(np.ascontiguousarray(pixels)).to(device, non_blocking=True).permute(0, 3, 1, 2)
    return tensor if channels_last else tensor.contiguous()


def image_tensor_batches(data: TrialData, split: Split, batch_size: int, *, train: bool, seed: int,
                         epoch: int, device: torch.device, channels_last: bool = True, flip: bool = False,
                         prefetch: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(pixels, targets) batches of a split, as :func:`nimabench.trial_data.numpy_batches` makes them.

    ``prefetch`` batches are prepared ahead in a thread (for GPUs).
    """
    batches = numpy_batches(data, split, batch_size, train=train, seed=seed, epoch=epoch, flip=flip)
    for pixels, targets in prefetched(batches, prefetch):
        on_device = torch.from_numpy(targets).to(device, non_blocking=True)
        yield to_model_input(pixels, device, channels_last), on_device
