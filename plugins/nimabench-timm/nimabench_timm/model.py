"""The NIMA model in PyTorch: a timm backbone's pooled features -> Dropout -> Linear -> softmax over buckets.

The model takes the core's cached pixels as they are - uint8, (N, 3, H, W), usually a channels-last view of
the NHWC cache - and applies the backbone's own preprocessing (timm's ``resolve_model_data_config`` mean
and std) in torch, as one multiply-add, so both frameworks read the same pixels and only the model differs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from nimabench.errors import NimabenchError
from nimabench.pretrained import missing_weights_message
from nimabench_timm.loading import create_with_weights
from nimabench_timm.timm_import import import_timm

if TYPE_CHECKING:
    from nimabench_timm.backbones import TimmBackbone


class NimaHead(nn.Module):
    def __init__(self, in_features: int, num_buckets: int, dropout: float):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(in_features, num_buckets)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        # The softmax runs in float32 even under bf16 autocast: the losses take logs and CDFs of it.
        return torch.softmax(self.linear(self.dropout(features)).float(), dim=-1)


class NimaModel(nn.Module):
    def __init__(self, base: nn.Module, num_buckets: int, dropout: float, mean: tuple[float, ...],
                 std: tuple[float, ...], *, model_name: str, weights_source: str | None):
        super().__init__()
        self.base = base
        self.head = NimaHead(feature_width(base), num_buckets, dropout)
        mean_t = torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1)
        std_t = torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1)
        # (x / 255 - mean) / std as x * scale + offset
        self.register_buffer("scale", 1.0 / (255.0 * std_t), persistent=False)
        self.register_buffer("offset", -mean_t / std_t, persistent=False)
        self.model_name = model_name
        self.weights_source = weights_source  # where the pretrained weights came from; None: random init

    def preprocess(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 (N, 3, H, W) -> normalised float32, keeping the input's memory format."""
        return pixels.float() * self.scale + self.offset

    def features(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.base(self.preprocess(pixels))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(pixels))


def feature_width(base: nn.Module) -> int:
    """The pooled output's width (``head_hidden_size`` where a ``conv_head`` or ``pre_logits`` follows)."""
    return int(getattr(base, "head_hidden_size", None) or base.num_features)


def build_nima_model(backbone: TimmBackbone, *, num_buckets: int, pretrained: bool,
                     weights_dir: Path | None = None, dropout: float = 0.75) -> NimaModel:
    timm = import_timm()
    source = None
    if pretrained:
        search = backbone.weights_search(weights_dir)
        if search.found is None:
            raise NimabenchError(missing_weights_message(backbone.name, search.searched))
        source = search.found.describe()
        base = create_with_weights(backbone.model_name, search.found.path)
        base.reset_classifier(0)
    else:
        base = timm.create_model(backbone.model_name, pretrained=False, num_classes=0)
    config = timm.data.resolve_model_data_config(base)
    return NimaModel(base, num_buckets, dropout, tuple(config["mean"]), tuple(config["std"]),
                     model_name=backbone.model_name, weights_source=source)
