"""What "the top N blocks" of a Keras backbone are, for stages with ``trainable=N``.

Keras applications are flat functional models, but they name their layers by block (``conv_dw_7``,
``block_12_expand``, ``conv4_block3_out``, ``mixed7``). A family's pattern (``catalogue.BLOCK_PATTERNS``)
captures the block id from a layer name; layers are walked in topological order and an unnamed layer (an
anonymous convolution inside an Inception module, say) joins the next named block, which is the module
whose output follows it. Layers after the last named block (MobileNetV2's ``Conv_1``, a final
normalisation) join that last block, so "top 1" includes the backbone's last layers; the stem, before the
first named block, joins that first block, so "top N" with N the block count is the whole backbone.
"""

from __future__ import annotations

import re
from typing import Any


def block_ids(layer_names: list[str], pattern: str) -> list[str]:
    """The block id of each layer, in order; layers with no id take the next named one."""
    compiled = re.compile(pattern)
    named = [_match(compiled, name) for name in layer_names]
    if not any(named):
        raise ValueError(f"no layer name matches the block pattern {pattern!r}")
    ids: list[str | None] = [None] * len(layer_names)
    following: str | None = None
    for i in reversed(range(len(layer_names))):
        following = named[i] or following
        ids[i] = following
    last = next(block for block in reversed(named) if block)
    return [block or last for block in ids]


def _match(pattern: re.Pattern, name: str) -> str | None:
    found = pattern.search(name)
    return found.group(1) if found else None


def ordered_blocks(ids: list[str]) -> list[str]:
    """Distinct block ids, bottom to top."""
    return list(dict.fromkeys(ids))


def top_block_layers(model: Any, pattern: str, n_blocks: int) -> list[Any]:
    """The layers of ``model`` (a Keras backbone) that belong to its top ``n_blocks`` blocks."""
    layers = list(model.layers)
    ids = block_ids([layer.name for layer in layers], pattern)
    top = set(ordered_blocks(ids)[-n_blocks:])
    return [layer for layer, block in zip(layers, ids, strict=True) if block in top]
