"""Loading a weights file into a timm model strictly, so a file that does not fit fails loudly.

timm's own ``pretrained_cfg_overlay=dict(file=...)`` path can log a warning and load nothing (FACTS: a raw
file with num_classes=10). Here the model is created with the classifier the file has (its class count, else
the pretrained config's), the file's keys are matched to the model's - by name, or, when the names differ but
the tensors are the same list (the EfficientNet-Lite0 PyPI package uses EfficientNet-PyTorch's names), by
position with every shape asserted - and ``load_state_dict(strict=True)`` copies every tensor. The caller
then resets the classifier. :func:`verify_loaded` re-checks that the model holds the file's tensors.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from nimabench.errors import NimabenchError
from nimabench_timm.timm_import import import_timm


def read_state_dict(path: Path) -> OrderedDict[str, torch.Tensor]:
    """The tensors of a .safetensors/.pth/.pt/.bin file (``state_dict``/``model`` wrappers and ``module.``
    prefixes removed by timm's reader); never unpickles arbitrary objects."""
    timm = import_timm()
    state = timm.models.load_state_dict(str(path), weights_only=True)
    return OrderedDict((key, value) for key, value in state.items() if isinstance(value, torch.Tensor))


def create_with_weights(model_name: str, path: Path) -> nn.Module:
    """``timm.create_model(model_name)`` holding the weights of ``path``, classifier included."""
    timm = import_timm()
    state = read_state_dict(path)
    model = timm.create_model(model_name, pretrained=False, num_classes=_class_count(model_name, state))
    matched = match_keys(model.state_dict(), state, source=path)
    model.load_state_dict(matched, strict=True)
    verify_loaded(model, matched, path)
    return model


def _class_count(model_name: str, state: dict[str, torch.Tensor]) -> int:
    timm = import_timm()
    cfg = timm.models.get_pretrained_cfg(model_name)
    cfg = cfg.to_dict() if cfg is not None else {}
    classifiers = cfg.get("classifier") or ()
    for name in (classifiers,) if isinstance(classifiers, str) else classifiers:
        weight = state.get(f"{name}.weight")
        if weight is not None:
            return int(weight.shape[0])
    return int(cfg.get("num_classes") or 1000)


def match_keys(expected: dict[str, torch.Tensor], state: OrderedDict[str, torch.Tensor],
               source: Path) -> OrderedDict[str, torch.Tensor]:
    """``state`` under the model's keys: by name when they agree, else by position, shapes checked."""
    if set(expected) == set(state):
        return state
    if len(expected) != len(state):
        missing = sorted(set(expected) - set(state))[:3]
        raise NimabenchError(
            f"weights file {source} does not fit the model: it has {len(state)} tensors, the model "
            f"{len(expected)} (model keys missing from the file include {missing})"
        )
    renamed: OrderedDict[str, torch.Tensor] = OrderedDict()
    for (key, target), (file_key, tensor) in zip(expected.items(), state.items(), strict=True):
        if target.shape != tensor.shape:
            raise NimabenchError(
                f"weights file {source} does not fit the model: its tensor {file_key} {tuple(tensor.shape)} "
                f"falls on the model's {key} {tuple(target.shape)} when matched in order"
            )
        renamed[key] = tensor
    return renamed


def verify_loaded(model: nn.Module, matched: dict[str, torch.Tensor], source: Path) -> None:
    """Every model tensor equals the file's (the trap: weights silently left unloaded)."""
    for key, value in model.state_dict().items():
        if not torch.equal(value.cpu(), matched[key].to(value.dtype)):
            raise NimabenchError(f"loading {source}: the model's {key} does not hold the file's weights")
