"""Shared set-up: only this plugin loads, caches go to a temporary folder, and a tiny dataset is built here.

These tests run in their own pytest process (``pytest plugins/nimabench-timm/tests``): torch must never
share a process with TensorFlow (FACTS: importing both, or timm's triton, can segfault).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Before anything imports nimabench.plugins or timm: plugin selection, cache location, no hub.
os.environ["NIMABENCH_LOAD_PLUGINS"] = "nimabench-timm"
os.environ["NIMABENCH_CACHE"] = tempfile.mkdtemp(prefix="nimabench-timm-tests-")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.pop("NIMABENCH_WEIGHTS", None)
os.environ["HF_HUB_CACHE"] = str(Path(os.environ["NIMABENCH_CACHE"]) / "empty-hf-cache")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from nimabench.dataset import Manifest, probability_columns  # noqa: E402
from nimabench.plugins import collect  # noqa: E402
from nimabench.schedule import Stage  # noqa: E402
from nimabench.trainer import RunOptions, TrainContext  # noqa: E402
from nimabench.trial import TrialSpec  # noqa: E402

TINY_BACKBONE = "timm:test_efficientnet"
SCORES = np.arange(1.0, 6.0)  # five buckets: the head must follow the dataset, not assume ten
SPLIT_SIZES = {"train": 24, "val": 8, "test": 8}
TWO_STAGES = (
    Stage("head", epochs=1, trainable="head", optimizer="adam", head_lr=1e-3),
    Stage("all", epochs=1, trainable="all", optimizer="adam", head_lr=1e-4, base_lr=1e-4),
)


def write_tiny_dataset(folder: Path, seed: int = 0) -> Manifest:
    """40 small PNGs (smooth colour fields plus noise) with Dirichlet rating distributions."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for split, count in SPLIT_SIZES.items():
        for i in range(count):
            image_id = f"{split}{i:02d}"
            path = folder / f"{image_id}.png"
            Image.fromarray(_image(rng)).save(path)
            distribution = rng.dirichlet(np.ones(len(SCORES)))
            mean = float(distribution @ SCORES)
            std = float(np.sqrt(distribution @ (SCORES - mean) ** 2))
            rows.append({"image_id": image_id, "path": str(path), "split": split, "group": image_id,
                         "mean": mean, "std": std, **dict(zip(probability_columns(len(SCORES)), distribution,
                                                               strict=True))})
    return Manifest(dataset="tiny", task="technical", score_values=SCORES, frame=pd.DataFrame(rows),
                    label_strategy="votes", split_policy="fixed", data_dir=folder)


def _image(rng: np.random.Generator, size: int = 80) -> np.ndarray:
    ramp = np.linspace(0, 1, size)
    base = rng.uniform(0, 255, 3) * np.outer(ramp, ramp[::-1])[..., None] / 1.0
    noisy = base + rng.normal(0, rng.uniform(2, 40), (size, size, 3))
    return np.clip(noisy, 0, 255).astype(np.uint8)


@pytest.fixture(scope="session")
def tiny_manifest(tmp_path_factory) -> Manifest:
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny-dataset"))


@pytest.fixture
def make_context(tiny_manifest, tmp_path):
    """A TrainContext for the tiny dataset; keyword arguments override stages, options, loss, seed."""

    def make(*, stages=TWO_STAGES, loss: str = "emd", seed: int = 0, backbone: str = TINY_BACKBONE,
             progress=None, artefacts: str = "artefacts", **options) -> TrainContext:
        options = {"batch_size": 8, "image_size": 64, "device": "cpu", "allow_random_init": True, **options}
        spec = TrialSpec(task="technical", dataset="tiny", backbone=backbone, loss=loss, schedule="custom",
                         seed=seed)
        return TrainContext(
            spec=spec, manifest=tiny_manifest, backbone=collect("backbone").get(backbone),
            loss=collect("loss").get(loss) if isinstance(loss, str) else loss, stages=tuple(stages),
            options=RunOptions(**options), artefact_dir=tmp_path / artefacts,
            progress=progress or (lambda event: None),
        )

    return make
