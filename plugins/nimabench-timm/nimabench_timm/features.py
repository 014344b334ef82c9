"""The frozen-base feature cache: pooled backbone features computed once, the head trained on them.

While a stage trains only the head, the backbone is a fixed function (frozen, in eval mode), so recomputing
it every epoch repeats the same work. Its pooled features are computed once per trial instead - for
training two augmented views of each image, the centre crop and its mirror image, and for validation the
centre crop - and each epoch the head sees every training image once, through one of its views drawn at
random (the core's :mod:`nimabench.feature_views` draws them, as for the Keras trainer). The cache is stale
once a stage trains the base; the trainer recomputes it if a later stage freezes the base again.

Cost: computing the cache is (views x train + val) backbone passes; recomputing is epochs x (train + val).
With two views and val at 8% of train the cache wins 2.6x at 5 epochs (as measured by
benchmarks/timm_training.py) and about 12x at idealo's 25; the trial override ``feature_views=1`` (centre
crops only, no flip augmentation) doubles that (4.8x measured at 5 epochs).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from nimabench.feature_views import VIEWS, feature_pass_batches, feature_passes, view_batches
from nimabench.staged_training import FeatureProgress
from nimabench.trial_data import TrialData
from nimabench_timm.data import image_tensor_batches
from nimabench_timm.model import NimaModel
from nimabench_timm.runtime import Runtime


@dataclass
class CachedFeatures:
    train_views: torch.Tensor  # (views, n_train, width): centre crop, then its mirror image
    val: torch.Tensor  # (n_val, width): centre crops
    seconds: float = 0.0
    images: int = 0  # backbone forward passes it took

    def train_batches(self, data: TrialData, batch_size: int, *, seed: int,
                      epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Shuffled (features, targets) batches, one view of each image per epoch."""
        views, n = self.train_views.shape[:2]
        device = self.train_views.device
        for view, index in view_batches(views, n, batch_size, seed=seed, epoch=epoch):
            picked = torch.from_numpy(view).to(device), torch.from_numpy(index).to(device)
            targets = torch.from_numpy(data.targets[data.train.rows[index]]).to(device)
            yield self.train_views[picked], targets


def extract_features(model: NimaModel, data: TrialData, runtime: Runtime, batch_size: int,
                     progress: FeatureProgress | None = None, views: int = VIEWS) -> CachedFeatures:
    """Features of the train split's views (centre crop, then its mirror) and of val's centre crops."""
    passes = feature_passes(data, views)
    started = time.perf_counter()
    total = feature_pass_batches(data, batch_size, views)
    done = 0
    outputs = []
    model.eval()
    for split, flip in passes:
        chunks = []
        for pixels, _ in image_tensor_batches(data, split, batch_size, train=False, seed=0, epoch=0,
                                              device=runtime.device, channels_last=runtime.channels_last,
                                              flip=flip, prefetch=runtime.prefetch):
            chunks.append(_features(model, pixels, runtime))
            done += 1
            if progress:
                progress(done, total)
        outputs.append(_stack(chunks, model, runtime))
    return CachedFeatures(torch.stack(outputs[:views]), outputs[views], time.perf_counter() - started,
                          views * len(data.train) + len(data.val))


def _features(model: NimaModel, pixels: torch.Tensor, runtime: Runtime) -> torch.Tensor:
    # no_grad, not inference_mode: the head saves these tensors for its backward pass later.
    with torch.no_grad(), runtime.autocast():
        return model.features(pixels).float()


def _stack(chunks: list[torch.Tensor], model: NimaModel, runtime: Runtime) -> torch.Tensor:
    if chunks:
        return torch.cat(chunks)
    return torch.empty((0, model.head.linear.in_features), device=runtime.device)
