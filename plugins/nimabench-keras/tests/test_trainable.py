"""What a stage trains: frozen layers keep their weights and BatchNorm statistics, as in the PyTorch trainer."""

import numpy as np
import pytest

from nimabench.plugins import collect
from nimabench.schedule import Stage
from nimabench_keras.catalogue import BLOCK_PATTERNS
from nimabench_keras.kernels import KERNELS
from nimabench_keras.loop import make_train_step
from nimabench_keras.optim import stage_optimizers
from nimabench_keras.trainable import set_trainable

SIZE = 32


def tiny_parts(name="mobilenet_025"):
    backbone = collect("backbone").get(f"keras:{name}")
    return backbone.build_parts(num_buckets=10, weights_path=None, input_size=SIZE), backbone.catalogue_entry


def one_step(parts, variables, stage):
    optimizers = stage_optimizers(stage, variables.head, variables.base)
    step = make_train_step(lambda x: parts.model(x, training=True), KERNELS["emd"], np.arange(1.0, 11.0),
                           optimizers, jit_compile=False)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (4, SIZE, SIZE, 3), dtype=np.uint8)
    step(pixels, rng.dirichlet(np.ones(10), 4).astype(np.float32))


def values(layer):
    return [np.array(v.numpy()) for v in layer.weights]


def test_top_two_blocks_train_and_the_rest_stays_as_it_was():
    parts, entry = tiny_parts()
    variables = set_trainable(parts, BLOCK_PATTERNS[entry.family], 2)
    assert (variables.blocks_trained, variables.blocks_total) == (2, 13)
    assert {v.path.rsplit("/", 1)[0] for v in variables.base} == {
        f"conv_{kind}_{block}{suffix}" for kind in ("dw", "pw") for block in (12, 13) for suffix in ("", "_bn")}
    frozen, trained = parts.base.get_layer("conv1_bn"), parts.base.get_layer("conv_pw_13_bn")
    before = values(frozen), values(trained)
    one_step(parts, variables, Stage("top", epochs=1, trainable=2, head_lr=1e-2, base_lr=1e-2))
    assert all(np.array_equal(a, b) for a, b in zip(before[0], values(frozen), strict=True))
    moving_mean = trained.weights[2]  # gamma, beta, moving mean, moving variance
    assert not np.array_equal(before[1][2], moving_mean.numpy())  # a training BatchNorm updates its statistics


def test_head_only_freezes_the_whole_base():
    parts, entry = tiny_parts()
    variables = set_trainable(parts, BLOCK_PATTERNS[entry.family], "head")
    assert variables.base == [] and len(variables.head) == 2 and not parts.base.trainable
    before = [values(layer) for layer in parts.base.layers]
    one_step(parts, variables, Stage("head", epochs=1, trainable="head"))
    after = [values(layer) for layer in parts.base.layers]
    assert all(np.array_equal(a, b) for x, y in zip(before, after, strict=True) for a, b in zip(x, y, strict=True))


def test_dropout_in_frozen_blocks_is_off_and_comes_back_when_they_train():
    parts, entry = tiny_parts("efficientnet_b0")
    drops = [layer for layer in parts.base.layers if type(layer).__name__ == "Dropout"]
    rates = [layer.rate for layer in drops]
    assert drops and max(rates) > 0
    set_trainable(parts, BLOCK_PATTERNS[entry.family], 1)
    assert [layer.rate for layer in drops[:-1]] == [0.0] * (len(drops) - 1)  # block7a's own drop is absent
    set_trainable(parts, BLOCK_PATTERNS[entry.family], "all")
    assert [layer.rate for layer in drops] == pytest.approx(rates)
