"""The in-model preprocessing layer computes what keras.applications' preprocess_input computes."""

import keras
import numpy as np
import pytest

from nimabench_keras.preprocessing import ImagenetPreprocessing

PIXELS = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)


@pytest.mark.parametrize("mode, module", [("tf", "mobilenet"), ("caffe", "resnet50"), ("torch", "densenet")])
def test_mode_matches_keras_preprocess_input(mode, module):
    expected = getattr(keras.applications, module).preprocess_input(PIXELS.astype(np.float32))
    got = ImagenetPreprocessing(mode)(PIXELS)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, atol=1e-4)


def test_builtin_mode_passes_0_255_floats_through():
    got = np.asarray(ImagenetPreprocessing("builtin")(PIXELS))
    assert got.dtype == np.float32 and np.array_equal(got, PIXELS.astype(np.float32))


def test_the_layer_serialises_with_its_mode():
    layer = ImagenetPreprocessing("caffe")
    again = ImagenetPreprocessing.from_config(layer.get_config())
    assert again.mode == "caffe" and again.dtype == "float32"


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="unknown preprocessing mode"):
        ImagenetPreprocessing("inception")
