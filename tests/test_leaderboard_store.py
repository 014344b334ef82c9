"""The fixed results store the leaderboard, plot and publish tests share, and checks of the store itself.

Trials are written the way the worker writes them (``Store.mark_running`` then ``record_success``) with
synthetic per-image prediction CSVs from a seeded RNG, so everything downstream is deterministic:

- ``mobilenet / emd`` (keras, 2 seeds) and ``mobilenet / cce`` (1 seed): good and nearly equal (tied);
- ``efficientnet_lite0 / emd`` and ``/ cce`` (torch): clearly worse than the leader, close to each other.

Other modules import :func:`build_fixed_store` (tests/ is on sys.path under pytest's default import mode).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nimabench.metrics import evaluate
from nimabench.store import Store
from nimabench.trial import TrialSpec

SCORES = np.arange(1, 11, dtype=np.float64)
N_TEST = 100
TASK, DATASET = "technical", "synthetic-tid"
# backbone, framework, loss, seed, prediction noise (score units), parameters, train seconds
RECIPES = (
    ("mobilenet", "keras", "emd", 0, 0.9, 3_228_864, 412.0),
    ("mobilenet", "keras", "emd", 1, 0.9, 3_228_864, 405.0),
    ("mobilenet", "keras", "cce", 0, 0.95, 3_228_864, 398.0),
    ("efficientnet_lite0", "torch", "emd", 0, 1.9, 3_384_010, 655.0),
    ("efficientnet_lite0", "torch", "cce", 0, 2.0, 3_384_010, 640.0),
)
DETAILS = {
    "split_policy": "by reference image (group): 60% train, 20% val, 20% test, seed 0",
    "label_strategy": "votes",
    "counts": {"train": 300, "val": 100, "test": N_TEST},
    "skipped_images": 0,
    "options": {"batch_size": 32, "image_size": 224, "cache_size": 256, "device": "cpu", "dropout": 0.75},
}


def discretised_normal(means: np.ndarray, std: float) -> np.ndarray:
    """(n, 10) distributions over scores 1..10: a normal around each mean, binned and normalised."""
    weights = np.exp(-0.5 * ((SCORES[None, :] - means[:, None]) / std) ** 2)
    return weights / weights.sum(axis=1, keepdims=True)


def truth(rng: np.random.Generator) -> pd.DataFrame:
    means = rng.uniform(2.5, 8.5, N_TEST)
    return pd.DataFrame({"image_id": [f"i{k:03d}" for k in range(N_TEST)],
                         "group": [f"ref{k // 10:02d}" for k in range(N_TEST)], "latent": means})


def predictions_csv(images: pd.DataFrame, noise: float, rng: np.random.Generator) -> tuple[pd.DataFrame, dict]:
    true = discretised_normal(images["latent"].to_numpy(), 1.3)
    predicted = discretised_normal(images["latent"].to_numpy() + rng.normal(0, noise, len(images)), 1.5)
    metrics = evaluate(predicted, true, SCORES)
    moments = {name: (dist @ SCORES, np.sqrt(dist @ SCORES**2 - (dist @ SCORES) ** 2))
               for name, dist in (("true", true), ("pred", predicted))}
    frame = pd.DataFrame({"image_id": images["image_id"], "group": images["group"],
                          "true_mean": moments["true"][0], "true_std": moments["true"][1],
                          "pred_mean": moments["pred"][0], "pred_std": moments["pred"][1]})
    distributions = [pd.DataFrame(dist, columns=[f"{name}_p{k}" for k in range(1, 11)])
                     for name, dist in (("pred", predicted), ("true", true))]
    return pd.concat([frame, *distributions], axis=1), metrics


def history(noise: float) -> list[dict]:
    rows = [{"stage": "head", "epoch": e, "train_loss": 0.2 / (e + 1), "val_loss": 0.22 / (e + 1)} for e in range(2)]
    rows += [{"stage": "all", "epoch": e, "train_loss": 0.08 * noise / (e + 1), "val_loss": 0.09 * noise / (e + 1)}
             for e in range(3)]
    return rows


def build_fixed_store(directory) -> Store:
    store = Store(directory)
    rng = np.random.default_rng(20240601)
    images = truth(rng)
    for backbone, framework, loss, seed, noise, parameters, seconds in RECIPES:
        spec = TrialSpec(task=TASK, dataset=DATASET, backbone=backbone, loss=loss, schedule="two-stage", seed=seed)
        store.mark_running(spec, framework)
        frame, metrics = predictions_csv(images, noise, rng)
        path = store.artefact_dir(spec.trial_id) / "test_predictions.csv"
        frame.to_csv(path, index=False, float_format="%.6g")
        summary = {"train_seconds": seconds, "train_images_per_second": 300 * 14 / seconds,
                   "parameters": parameters, "pretrained": True, "features_cached": False, "device": "cpu",
                   "versions": {"nimabench": "0.1.0"},
                   "details": {**DETAILS, "best": {"stage": "all", "epoch": 2, "val_loss": 0.03 * noise}}}
        store.record_success(spec.trial_id, summary=summary, metrics={"test": metrics}, history=history(noise),
                             artefacts={"test_predictions": str(path.relative_to(store.results_dir))})
    return store


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    return build_fixed_store(tmp_path_factory.mktemp("fixed-store"))


def test_the_fixed_store_holds_five_complete_trials_with_predictions(store):
    trials = store.trials()
    assert list(trials["status"]) == ["complete"] * len(RECIPES)
    for trial_id in trials["id"]:
        frame = pd.read_csv(store.artefact(trial_id, "test_predictions"))
        assert len(frame) == N_TEST
        assert {"pred_p10", "true_p10", "true_mean", "pred_mean"} <= set(frame.columns)
    assert len(store.history(trials["id"].iloc[0])) == 5


def test_the_fixed_store_is_deterministic(store, tmp_path):
    again = build_fixed_store(tmp_path / "again")
    first, second = store.metrics("test"), again.metrics("test")
    pd.testing.assert_frame_equal(first, second)
