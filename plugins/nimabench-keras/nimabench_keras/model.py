"""The Keras NIMA model: preprocessing, a keras.applications backbone, and the head Dropout -> Dense(softmax).

    pixels (uint8 NHWC) -> ImagenetPreprocessing -> base (include_top=False, pooling='avg') -> features
    features -> Dropout(p) -> Dense(buckets, softmax, float32) -> distribution

``model`` is the whole graph; ``features`` and ``head`` are its two halves, sharing its layers, so a
frozen-base stage can compute the pooled features once and train ``head`` on them alone.

ImageNet weights are loaded by path into the base before it is wired up (never ``weights='imagenet'``,
which downloads). One Keras quirk is undone here: EfficientNetB0-B7 built with ``weights='imagenet'`` get an
extra ``Rescaling(1/sqrt(std))`` after their ``Normalization`` layer, which building with a path leaves out;
the same factor is folded into that layer's variance, so the network computes what Keras's own ImageNet
model computes.

Imports Keras at module import: only ``build`` methods import this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np

from nimabench.errors import NimabenchError
from nimabench_keras.catalogue import CatalogueEntry
from nimabench_keras.preprocessing import IMAGENET_STD_RGB, ImagenetPreprocessing

BASE_NAME = "backbone"
HEAD_NAME = "nima_head"


@dataclass
class NimaKerasModel:
    model: keras.Model  # pixels -> distribution
    base: keras.Model  # the keras.applications network (what "trainable" stages freeze or unfreeze)
    features: keras.Model  # pixels -> pooled features
    head: keras.Model  # pooled features -> distribution
    input_size: int


def build_base(entry: CatalogueEntry, input_size: int, weights_path: str | Path | None) -> keras.Model:
    """The keras.applications constructor without its top, randomly initialised or loaded from a file."""
    if input_size < entry.min_input_size:
        raise NimabenchError(f"keras:{entry.snake_name} needs inputs of at least {entry.min_input_size} px, "
                             f"got --image-size {input_size}")
    constructor = getattr(keras.applications, entry.constructor)
    base = constructor(include_top=False, weights=None, pooling="avg", input_shape=(input_size, input_size, 3),
                       name=BASE_NAME, **entry.kwargs)
    if weights_path is not None:
        load_imagenet_weights(base, entry, Path(weights_path))
    return base


def load_imagenet_weights(base: keras.Model, entry: CatalogueEntry, path: Path) -> None:
    try:
        base.load_weights(str(path))
    except (ValueError, OSError, KeyError) as error:
        raise NimabenchError(f"cannot load {path} into keras:{entry.snake_name}: {error}") from error
    if entry.constructor.startswith("EfficientNetB"):
        _fold_imagenet_std(base)


def _fold_imagenet_std(base: keras.Model) -> None:
    """(x - m) / sqrt(v) / sqrt(s) == (x - m) / sqrt(v * s): the imagenet model's extra Rescaling, folded."""
    normalization = next(layer for layer in base.layers if isinstance(layer, keras.layers.Normalization))
    variance = np.asarray(normalization.adapt_variance.numpy())
    normalization.adapt_variance.assign(variance * np.asarray(IMAGENET_STD_RGB, variance.dtype))
    normalization.finalize_state()


def build_nima_model(entry: CatalogueEntry, *, num_buckets: int, input_size: int | None = None,
                     weights_path: str | Path | None = None, dropout: float = 0.75) -> NimaKerasModel:
    size = input_size or entry.default_input_size
    base = build_base(entry, size, weights_path)
    pixels = keras.Input((size, size, 3), dtype="uint8", name="pixels")
    features = base(ImagenetPreprocessing(entry.preprocessing, name="preprocessing")(pixels))
    head = keras.Sequential([
        keras.Input((entry.feature_width,), name="features"),
        keras.layers.Dropout(dropout, name="head_dropout"),
        # float32 under mixed precision too: a float16 softmax underflows and the losses take logs of it.
        keras.layers.Dense(num_buckets, activation="softmax", dtype="float32", name="head_dense"),
    ], name=HEAD_NAME)
    model = keras.Model(pixels, head(features), name=f"nima_{entry.snake_name}")
    return NimaKerasModel(model, base, keras.Model(pixels, features, name="features"), head, size)
