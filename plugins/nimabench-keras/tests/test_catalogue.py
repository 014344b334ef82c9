"""The static catalogue: complete, consistent, and true to the installed Keras for a few cheap entries."""

import numpy as np
import pytest

from nimabench.backbone import resolve_backbone
from nimabench.plugins import collect
from nimabench_keras.blocks import block_ids, ordered_blocks
from nimabench_keras.catalogue import BLOCK_PATTERNS, CATALOGUE, PREPROCESSING_MODES, catalogue_entry

REQUIRED = [
    "mobilenet", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "inception_v3",
    "inception_resnet_v2", "xception", "resnet50", "resnet101", "resnet152", "resnet50_v2", "resnet101_v2",
    "resnet152_v2", "vgg16", "vgg19", "densenet121", "densenet169", "densenet201", "nasnet_mobile",
    "nasnet_large", *(f"efficientnet_b{i}" for i in range(8)),
    *(f"efficientnet_v2_{v}" for v in ("b0", "b1", "b2", "b3", "s", "m", "l")),
    *(f"convnext_{v}" for v in ("tiny", "small", "base", "large", "xlarge")),
]


def test_every_keras_application_is_in_the_catalogue_once():
    names = [entry.snake_name for entry in CATALOGUE]
    assert set(REQUIRED) <= set(names)
    assert len(names) == len(set(names))
    assert len({entry.weights_file for entry in CATALOGUE}) == len(CATALOGUE)


def test_entries_are_consistent():
    import keras

    for entry in CATALOGUE:
        assert entry.preprocessing in PREPROCESSING_MODES, entry
        assert entry.family in BLOCK_PATTERNS, entry
        assert entry.min_input_size <= entry.default_input_size, entry
        assert entry.weights_file.endswith(".h5"), entry
        assert hasattr(keras.applications, entry.constructor), entry


def test_each_backbone_is_registered_with_its_bare_alias_winning():
    registry = collect("backbone")
    for name in REQUIRED + ["mobilenet_025"]:
        backbone = registry.get(f"keras:{name}")
        assert backbone.framework == "keras"
        assert backbone.aliases == (name,) and backbone.alias_priority == 100
        assert resolve_backbone(registry, name).name == f"keras:{name}"
    inception = registry.get("keras:inception_resnet_v2")
    assert (inception.default_input_size, inception.min_input_size, inception.feature_width) == (299, 75, 1536)


@pytest.mark.parametrize("name", ["mobilenet_025", "mobilenet_v3_small", "efficientnet_b0"])
def test_width_and_blocks_match_keras(name):
    import keras

    entry = catalogue_entry(name)
    model = getattr(keras.applications, entry.constructor)(
        include_top=False, weights=None, pooling="avg", input_shape=(32, 32, 3), **entry.kwargs)
    assert model(np.zeros((1, 32, 32, 3), np.float32)).shape == (1, entry.feature_width)
    blocks = ordered_blocks(block_ids([layer.name for layer in model.layers], BLOCK_PATTERNS[entry.family]))
    assert len(blocks) == {"mobilenet_025": 13, "mobilenet_v3_small": 11, "efficientnet_b0": 16}[name]


def test_minimum_sizes_are_the_ones_keras_enforces():
    import keras

    for name in ("inception_v3", "xception"):
        entry = catalogue_entry(name)
        with pytest.raises(ValueError):
            getattr(keras.applications, entry.constructor)(
                include_top=False, weights=None, input_shape=(entry.min_input_size - 1,) * 2 + (3,))


def test_block_ids_give_unnamed_layers_the_next_named_block():
    names = ["input", "conv2d", "bn", "mixed0", "conv2d_1", "mixed1", "pool"]
    assert block_ids(names, r"^(mixed\d+)$") == ["mixed0"] * 4 + ["mixed1"] * 3
