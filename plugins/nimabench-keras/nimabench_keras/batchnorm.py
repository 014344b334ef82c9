"""BatchNorm statistics for a randomly initialised Keras backbone, estimated once from training images.

Keras applications initialise convolutions with glorot_uniform, which halves the activations' variance at
each ReLU layer, and a fresh BatchNormalization's moving statistics are (0, 1), so in inference mode a
random-init backbone shrinks its input to nothing: MobileNet's pooled features are about 1e-19, and every
image gets the same prediction (measured; timm's He-style init does not have this problem). Keras's
BatchNorm momentum of 0.99 then needs hundreds of steps to repair the statistics, far more than a quick
run has. So before training a random-init backbone, its moving statistics are set to the mean of a few
training batches' statistics (forward passes in training mode, no weight update) - the "precise BN"
estimate. Pretrained backbones keep their ImageNet statistics untouched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import numpy as np

CALIBRATION_BATCHES = 4


def calibrate_batch_norm(features: Any, base: Any, batches: Iterable[np.ndarray]) -> int:
    """Running-average the batch statistics of ``batches`` (uint8 pixels) into every BatchNorm of ``base``,
    through ``features(pixels, training=True)``; returns the number of batches used."""
    norms = [layer for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization)]
    momenta = [layer.momentum for layer in norms]
    used = 0
    try:
        for pixels in batches:
            for layer in norms:  # moving = k/(k+1) * moving + 1/(k+1) * batch: the mean over batches so far
                layer.momentum = used / (used + 1)
            features(pixels, training=True)
            used += 1
    finally:
        for layer, momentum in zip(norms, momenta, strict=True):
            layer.momentum = momentum
    return used
