"""The Keras trainer end to end on a tiny manifest: MobileNet alpha 0.25 at 64 px, random init, few images.

Each test trains in a second or two; the stage semantics they check are those of the PyTorch trainer.
"""

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from nimabench.dataset import Manifest, probability_columns
from nimabench.errors import NimabenchError
from nimabench.plugins import collect
from nimabench.pretrained import RandomInitWarning
from nimabench.schedule import Stage
from nimabench.trainer import RunOptions, TrainContext
from nimabench.trial import TrialSpec
from nimabench_keras.checkpoint import load_trained_model
from nimabench_keras.trainer import KerasTrainer

SCORES = np.arange(1.0, 11.0)
SPLITS = ["train"] * 28 + ["val"] * 6 + ["test"] * 6


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> Manifest:
    """40 small PNGs whose brightness and blur set their score, so there is something to learn."""
    folder = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    rows = []
    for i, split in enumerate(SPLITS):
        quality = i % 10 / 9
        pixels = rng.integers(0, 256, (80, 80, 3)) * quality + 128 * (1 - quality)
        path = folder / f"img{i:02d}.png"
        Image.fromarray(pixels.astype(np.uint8)).save(path)
        distribution = np.exp(-((SCORES - 1 - 9 * quality) ** 2) / 4)
        distribution /= distribution.sum()
        mean = distribution @ SCORES
        std = np.sqrt(distribution @ (SCORES - mean) ** 2)
        rows.append({"image_id": f"img{i:02d}", "path": str(path), "split": split, "group": f"g{i}",
                     "mean": mean, "std": std, **dict(zip(probability_columns(10), distribution, strict=True))})
    return Manifest(dataset="tiny", task="technical", score_values=SCORES, frame=pd.DataFrame(rows),
                    label_strategy="votes", split_policy="fixed", data_dir=folder)


def context_for(manifest, tmp_path, stages, *, seed=0, loss="emd", **options) -> TrainContext:
    backbone = collect("backbone").get("keras:mobilenet_025")
    run_options = RunOptions(batch_size=8, image_size=64, allow_random_init=True, cache_dir=tmp_path / "cache",
                             weights_dir=tmp_path / "no-weights", threads=2, **options)
    spec = TrialSpec(task="technical", dataset="tiny", backbone=backbone.name, loss=loss, schedule="two-stage",
                     seed=seed)
    events = []
    return TrainContext(spec=spec, manifest=manifest, backbone=backbone, loss=collect("loss").get(loss),
                        stages=tuple(stages), options=run_options, artefact_dir=tmp_path / f"artefacts-{seed}",
                        progress=events.append)


def two_stage():
    return collect("schedule").get("two-stage").stages_for("technical", epochs=1)


def train(context):
    with pytest.warns(RandomInitWarning):
        return KerasTrainer().train(context)


def test_two_stage_schedule_trains_and_predicts_the_test_split(manifest, tmp_path):
    context = context_for(manifest, tmp_path, two_stage())
    result = train(context)
    assert result.test_image_ids == [f"img{i:02d}" for i in range(34, 40)]
    assert result.test_predictions.shape == (6, 10)
    np.testing.assert_allclose(result.test_predictions.sum(axis=1), 1.0, atol=1e-5)
    assert [(row["stage"], row["epoch"]) for row in result.history] == [("head", 0), ("all", 0)]
    assert result.history[0]["features_cached"] and not result.history[1]["features_cached"]
    assert "lr_base" in result.history[1] and "lr_base" not in result.history[0]
    assert result.features_cached and not result.pretrained
    assert set(result.versions) >= {"tensorflow", "keras"} and result.device == "cpu"
    assert result.best["stage"] in ("head", "all") and result.best["val_loss"] is not None
    assert result.parameters > 200_000 and result.train_images_per_second > 0
    assert result.extra["batchnorm_calibration_batches"] > 0
    assert np.ptp(result.test_predictions @ SCORES) > 1e-4  # a random-init model still tells images apart


def test_the_same_seed_gives_the_same_predictions(manifest, tmp_path):
    first = train(context_for(manifest, tmp_path / "a", two_stage(), seed=3))
    second = train(context_for(manifest, tmp_path / "b", two_stage(), seed=3))
    np.testing.assert_array_equal(first.test_predictions, second.test_predictions)
    assert [row["train_loss"] for row in first.history] == [row["train_loss"] for row in second.history]


def test_best_weights_are_saved_and_reload_to_the_same_predictions(manifest, tmp_path):
    context = context_for(manifest, tmp_path, [Stage("head", epochs=2, trainable="head")])
    result = train(context)
    metadata = json.loads((context.artefact_dir / "best.json").read_text())
    assert metadata["snake_name"] == "mobilenet_025" and metadata["image_size"] == 64
    model, _ = load_trained_model(result.weights_path)
    from nimabench.trial_data import load_trial_data, numpy_batches

    data = load_trial_data(manifest, 64, cache_dir=tmp_path / "cache")
    pixels = np.concatenate([p for p, _ in numpy_batches(data, data.test, 8, train=False, seed=0, epoch=0)])
    # eager here, a compiled graph in the trainer: the same arithmetic up to float32 rounding
    np.testing.assert_allclose(np.asarray(model(pixels, training=False)), result.test_predictions, atol=2e-5)


def test_top_blocks_sgd_with_weight_decay_and_step_decay(manifest, tmp_path):
    stage = Stage("top", epochs=2, trainable=2, optimizer="sgd", head_lr=1e-3, base_lr=1e-4, momentum=0.9,
                  weight_decay=1e-4, decay="step", decay_rate=0.5, decay_every=1)
    result = train(context_for(manifest, tmp_path, [stage], loss="cbce"))
    assert [row["lr_head"] for row in result.history] == pytest.approx([1e-3, 5e-4])
    assert [row["lr_base"] for row in result.history] == pytest.approx([1e-4, 5e-5])
    assert not result.features_cached


def test_frozen_base_without_the_feature_cache(manifest, tmp_path):
    result = train(context_for(manifest, tmp_path, [Stage("head", epochs=1, trainable="head")],
                               cache_features=False))
    assert not result.features_cached and result.test_predictions.shape == (6, 10)


def test_early_stopping_ends_a_stage(manifest, tmp_path):
    stage = Stage("head", epochs=6, trainable="head", head_lr=0.0)  # a rate of 0 can never improve val
    result = train(context_for(manifest, tmp_path, [stage], early_stopping_patience=1))
    assert len(result.history) == 2 and result.best["epoch"] == 0


def test_missing_weights_without_random_init_is_an_error(manifest, tmp_path):
    context = context_for(manifest, tmp_path, two_stage())
    context = replace(context, options=replace(context.options, allow_random_init=False))
    with pytest.raises(NimabenchError, match="no ImageNet weights for keras:mobilenet_025"):
        KerasTrainer().train(context)
