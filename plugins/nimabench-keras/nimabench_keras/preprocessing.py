"""The ImageNet preprocessing of each Keras backbone, as the first layer of the NIMA model.

It lives inside the model (not in the input pipeline) so that the pipeline carries the image cache's uint8
pixels unchanged - the same pixels the PyTorch trainer reads - and a saved model takes plain 0..255 RGB
images, whatever its backbone. The arithmetic is that of ``keras.applications.imagenet_utils.preprocess_input``
(tests compare the two); it runs in float32 even under mixed precision, since caffe's mean subtraction on
0..255 values would lose a bit in float16.

Imports Keras: only ``nimabench_keras.model`` imports this module, inside ``build``.
"""

from __future__ import annotations

import keras
from keras import ops

from nimabench_keras.catalogue import PREPROCESSING_MODES

IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="nimabench")
class ImagenetPreprocessing(keras.layers.Layer):
    """uint8 (or 0..255 float) RGB NHWC -> the float input the backbone's ImageNet weights expect."""

    def __init__(self, mode: str, **kwargs):
        if mode not in PREPROCESSING_MODES:
            raise ValueError(f"unknown preprocessing mode {mode!r}; expected one of {PREPROCESSING_MODES}")
        kwargs.pop("dtype", None)  # always float32 (a saved config carries it back)
        super().__init__(dtype="float32", **kwargs)
        self.mode = mode

    def call(self, pixels):
        x = ops.cast(pixels, "float32")
        if self.mode == "tf":
            return x / 127.5 - 1.0
        if self.mode == "torch":
            return (x / 255.0 - ops.array(IMAGENET_MEAN_RGB)) / ops.array(IMAGENET_STD_RGB)
        if self.mode == "caffe":
            return ops.flip(x, axis=-1) - ops.array(CAFFE_MEAN_BGR)
        return x  # builtin: the model normalises 0..255 itself

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}
