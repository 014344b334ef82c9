"""What a stage trains: the head, everything, or the head plus the top N blocks of the backbone.

The blocks are those of :mod:`nimabench_keras.blocks` (the family's layer-name pattern), the counterpart of
nimabench-timm's timm parameter groups. Frozen layers behave as in the PyTorch trainer's eval mode: a
BatchNormalization whose ``trainable`` is False runs in inference mode (Keras 3 does that itself), and the
dropout layers of frozen blocks (EfficientNet's drop-connect) are switched off for the stage, since PyTorch
switches stochastic depth off in a frozen module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nimabench.errors import NimabenchError
from nimabench_keras.blocks import block_ids, ordered_blocks
from nimabench_keras.model import NimaKerasModel

ORIGINAL_RATE = "_nimabench_original_rate"  # where a silenced dropout layer keeps its rate


@dataclass
class TrainableVariables:
    head: list[Any]
    base: list[Any]
    blocks_trained: int  # backbone blocks unfrozen (all of them for 'all')
    blocks_total: int


def unfrozen_block_count(trainable: str | int, blocks_total: int) -> int:
    if trainable == "head":
        return 0
    if trainable == "all":
        return blocks_total
    if isinstance(trainable, int) and trainable >= 1:
        return min(trainable, blocks_total)
    raise NimabenchError(f"trainable must be 'head', 'all' or a block count >= 1, got {trainable!r}")


def set_trainable(parts: NimaKerasModel, block_pattern: str, trainable: str | int) -> TrainableVariables:
    """Set each backbone layer's ``trainable`` for a stage; returns the variables of each learning rate."""
    layers = list(parts.base.layers)
    ids = block_ids([layer.name for layer in layers], block_pattern)
    blocks = ordered_blocks(ids)
    unfrozen = unfrozen_block_count(trainable, len(blocks))
    trained_blocks = set(blocks[len(blocks) - unfrozen:])
    parts.base.trainable = unfrozen > 0  # False freezes every sublayer at once
    for layer, block in zip(layers, ids, strict=True):
        trains = block in trained_blocks
        if unfrozen:
            layer.trainable = trains
        _set_dropout(layer, active=trains)
    parts.head.trainable = True
    return TrainableVariables(head=list(parts.head.trainable_variables),
                              base=list(parts.base.trainable_variables) if unfrozen else [],
                              blocks_trained=unfrozen, blocks_total=len(blocks))


def _set_dropout(layer: Any, *, active: bool) -> None:
    if not hasattr(layer, "rate") or not type(layer).__name__.endswith("Dropout"):
        return
    original = getattr(layer, ORIGINAL_RATE, None)
    if original is None:
        original = layer.rate
        setattr(layer, ORIGINAL_RATE, original)
    layer.rate = original if active else 0.0
