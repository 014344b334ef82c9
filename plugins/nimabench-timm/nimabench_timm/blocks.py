"""What a stage trains: the head, everything, or the head plus the top N blocks of the backbone.

A "block" is one of timm's fine parameter groups, ``group_parameters(model, model.group_matcher())``: the
grouping timm itself uses for layer-wise learning-rate decay, in forward order. For an EfficientNet or a
MobileNet that is the stem, then each inverted-residual block (``blocks.i.j``), then ``conv_head``; for a
ResNet the stem, then each bottleneck (``layerI.J``); for ConvNeXt each stage's blocks, then the head norm.
So ``trainable=3`` unfreezes the last three such groups. A model without ``group_matcher`` falls back to
its top-level children that hold parameters.

Frozen parts run in eval mode, as Keras runs a non-trainable layer in inference mode: their BatchNorm
statistics stay those of the pretrained weights, and their stochastic depth is off.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from nimabench.errors import NimabenchError
from nimabench_timm.model import NimaModel
from nimabench_timm.timm_import import import_timm


@dataclass
class TrainableParameters:
    head: list[nn.Parameter]
    base: list[nn.Parameter]
    blocks_trained: int  # backbone blocks unfrozen (all of them for 'all')
    blocks_total: int


def backbone_blocks(base: nn.Module) -> list[list[str]]:
    """Parameter names of each block of the backbone, first block first."""
    if hasattr(base, "group_matcher"):
        timm = import_timm()
        groups = timm.models.group_parameters(base, base.group_matcher(coarse=False))
        return [groups[key] for key in sorted(groups)]
    return [[f"{name}.{p}" for p, _ in child.named_parameters()]
            for name, child in base.named_children() if any(True for _ in child.parameters())]


def set_trainable(model: NimaModel, trainable: str | int) -> TrainableParameters:
    """Set ``requires_grad`` for a stage and return the parameters each learning rate applies to."""
    blocks = backbone_blocks(model.base)
    if trainable == "head":
        unfrozen = 0
    elif trainable == "all":
        unfrozen = len(blocks)
    elif isinstance(trainable, int) and trainable >= 1:
        unfrozen = min(trainable, len(blocks))
    else:
        raise NimabenchError(f"trainable must be 'head', 'all' or a block count >= 1, got {trainable!r}")
    trained_names = {name for block in blocks[len(blocks) - unfrozen:] for name in block}
    base = []
    for name, parameter in model.base.named_parameters():
        parameter.requires_grad_(name in trained_names)
        if name in trained_names:
            base.append(parameter)
    head = list(model.head.parameters())
    for parameter in head:
        parameter.requires_grad_(True)
    return TrainableParameters(head=head, base=base, blocks_trained=unfrozen, blocks_total=len(blocks))


def frozen_modules(model: NimaModel) -> list[nn.Module]:
    """The largest backbone submodules none of whose parameters train (what runs in eval mode)."""
    frozen: list[nn.Module] = []
    _collect_frozen(model.base, frozen)
    return frozen


def _collect_frozen(module: nn.Module, frozen: list[nn.Module]) -> None:
    parameters = list(module.parameters())
    if not parameters:
        return  # parameterless (activation, drop path): follows its parent, trains inside a trained block
    if not any(p.requires_grad for p in parameters):
        frozen.append(module)  # eval() on it covers its children, parameterless ones included
        return
    for child in module.children():
        _collect_frozen(child, frozen)


def train_mode(model: NimaModel, frozen: list[nn.Module]) -> None:
    """Training mode for what trains, eval mode for the frozen parts."""
    model.train()
    for module in frozen:
        module.eval()
