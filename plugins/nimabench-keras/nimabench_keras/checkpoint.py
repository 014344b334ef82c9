"""The best weights of a trial, kept in memory while training and written once to the artefact dir.

``best.weights.h5`` holds every variable of the NIMA model (BatchNorm statistics included) in Keras 3's
weights format; ``best.json`` beside it says how to rebuild the model (the catalogue entry, buckets, input
size, dropout), so :func:`load_trained_model` needs nothing else. Training continues from the latest
weights, not the best, as Keras's ModelCheckpoint does; only the test predictions and the file use the best.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS_FILE = "best.weights.h5"
METADATA_FILE = "best.json"
CHECKPOINT_FORMAT = 1


@dataclass
class WeightsSnapshot:
    values: list[np.ndarray]

    @classmethod
    def of(cls, model: Any) -> WeightsSnapshot:
        return cls([np.array(variable.numpy(), copy=True) for variable in model.weights])

    def restore(self, model: Any) -> None:
        for variable, value in zip(model.weights, self.values, strict=True):
            variable.assign(value)


def save_checkpoint(model: Any, directory: Path, metadata: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / WEIGHTS_FILE
    model.save_weights(str(path))
    (directory / METADATA_FILE).write_text(json.dumps({"format": CHECKPOINT_FORMAT, **metadata}, indent=2))
    return path


def load_trained_model(path: Path) -> tuple[Any, dict[str, Any]]:
    """The trained Keras model of a ``best.weights.h5`` (or its folder) and the checkpoint's metadata."""
    from nimabench_keras.catalogue import catalogue_entry
    from nimabench_keras.model import build_nima_model

    path = Path(path)
    weights = path / WEIGHTS_FILE if path.is_dir() else path
    metadata = json.loads((weights.parent / METADATA_FILE).read_text())
    parts = build_nima_model(catalogue_entry(metadata["snake_name"]), num_buckets=metadata["num_buckets"],
                             input_size=metadata["image_size"], dropout=metadata["dropout"])
    parts.model.load_weights(str(weights))
    return parts.model, metadata
