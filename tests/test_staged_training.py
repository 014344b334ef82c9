"""The shared stage loop, driven by a NumPy stand-in for a framework: order, best epoch, early stop, history."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from nimabench.backbone import Backbone, WeightsLookup
from nimabench.epochs import EpochStats
from nimabench.plugins import collect
from nimabench.schedule import Stage
from nimabench.staged_training import StagedTrial, train_rate
from nimabench.trainer import RunOptions, TrainContext, input_size
from nimabench.trial import TrialSpec
from nimabench.trial_data import Split, TrialData

SCORES = np.arange(1.0, 6.0)


@dataclass(frozen=True)
class StubBackbone(Backbone):
    framework = "numpy"
    weights: str | None = None

    def framework_available(self) -> bool:
        return True

    def find_pretrained(self, weights_dir: Path | None = None) -> WeightsLookup:
        return WeightsLookup(self.weights, searched=("here", "there"))

    def build(self, **kwargs):
        return None


class ScriptedTrial(StagedTrial):
    """Each epoch's val prediction comes from a script, so the val losses are known in advance."""

    def __init__(self, context: TrainContext, data: TrialData, val_predictions: list[np.ndarray]):
        super().__init__(context, data)
        self.val_predictions = iter(val_predictions)
        self.current: np.ndarray | None = None
        self.kept: list[np.ndarray] = []
        self.calls: list[str] = []

    def begin_stage(self, stage: Stage, cached: bool) -> None:
        self.calls.append(f"begin {stage.name} cached={cached}")

    def extract_features(self, progress) -> None:
        self.calls.append("features")
        progress(1, 1)

    def train_epoch(self, stage, cached, epoch, iteration, on_batch) -> tuple[EpochStats, int]:
        self.calls.append(f"epoch {stage.name} {epoch} (trial epoch {self.epochs_done})")
        on_batch(1, 0.5)
        self.current = next(self.val_predictions)
        return EpochStats(loss=0.5, images=10, steps=1, seconds=2.0 if not cached else 0.5), iteration + 1

    def predict_val(self, cached: bool) -> np.ndarray:
        return np.repeat(self.current[None], len(self.data.val), axis=0)

    def keep_best(self) -> None:
        self.kept.append(self.current)

    def learning_rates(self) -> dict[str, float]:
        return {"lr_head": 1e-3}


def trial_data(n_val: int = 4) -> TrialData:
    targets = np.tile(np.array([0.0, 0.0, 1.0, 0.0, 0.0], np.float32), (10 + n_val, 1))
    train = Split("train", [f"t{i}" for i in range(10)], np.arange(10))
    val = Split("val", [f"v{i}" for i in range(n_val)], np.arange(10, 10 + n_val))
    return TrialData(None, train, val, Split("test", [], np.arange(0)), targets, SCORES, 32)


def context(stages: tuple[Stage, ...], tmp_path: Path, events: list | None = None, **options) -> TrainContext:
    spec = TrialSpec(task="technical", dataset="tiny", backbone="numpy:stub", loss="emd", schedule="x")
    return TrainContext(spec=spec, manifest=None, backbone=StubBackbone("numpy:stub", default_input_size=96),
                        loss=collect("loss").get("emd"), stages=stages, options=RunOptions(**options),
                        artefact_dir=tmp_path, progress=(events.append if events is not None else lambda e: None))


def peaked(bucket: int) -> np.ndarray:
    return np.eye(len(SCORES))[bucket]


HEAD = Stage("head", epochs=2, trainable="head")
ALL = Stage("all", epochs=2, trainable="all", base_lr=1e-4)
HEAD_AGAIN = Stage("head-again", epochs=1, trainable="head")


def test_stages_run_in_order_and_features_are_recomputed_after_the_base_trains(tmp_path):
    events = []
    trial = ScriptedTrial(context((HEAD, ALL, HEAD_AGAIN), tmp_path, events), trial_data(),
                          [peaked(b) for b in (0, 1, 2, 3, 4)])
    trial.run_stages()
    assert trial.calls == [
        "begin head cached=True", "features", "epoch head 0 (trial epoch 0)", "epoch head 1 (trial epoch 1)",
        "begin all cached=False", "epoch all 0 (trial epoch 2)", "epoch all 1 (trial epoch 3)",
        "begin head-again cached=True", "features", "epoch head-again 0 (trial epoch 4)"]
    assert trial.best.where["stage"] == "all" and trial.best.where["epoch"] == 0  # bucket 2: val loss 0
    assert [row["features_cached"] for row in trial.history] == [True, True, False, False, True]
    assert {"stage", "epoch", "train_loss", "val_loss", "seconds", "images", "images_per_second",
            "features_cached", "lr_head"} == set(trial.history[0])
    assert {e["phase"] for e in events} == {"features", "train"}


def test_a_stage_stops_early_and_the_next_stage_still_runs(tmp_path):
    long_head = Stage("head", epochs=5, trainable="head")
    script = [peaked(2), peaked(0), peaked(0), peaked(2)]
    trial = ScriptedTrial(context((long_head, HEAD_AGAIN), tmp_path, early_stopping_patience=2), trial_data(),
                          script)
    trial.run_stages()
    assert [(row["stage"], row["epoch"]) for row in trial.history] == [
        ("head", 0), ("head", 1), ("head", 2), ("head-again", 0)]
    assert len(trial.kept) == 1  # only the first epoch beat the others (the last one tied it)


def test_without_val_the_last_epoch_is_kept_and_never_stops_early(tmp_path):
    trial = ScriptedTrial(context((HEAD,), tmp_path, early_stopping_patience=1), trial_data(n_val=0),
                          [peaked(0), peaked(0)])
    trial.run_stages()
    assert [row["val_loss"] for row in trial.history] == [None, None]
    assert trial.best.where["epoch"] == 1 and len(trial.kept) == 2


def test_no_epoch_run_keeps_the_built_model(tmp_path):
    trial = ScriptedTrial(context((Stage("none", epochs=0, trainable="head"),), tmp_path), trial_data(), [])
    trial.run_stages()
    trial.keep_built_model_if_no_epoch_ran()
    assert trial.best.where == {"stage": "none", "epoch": -1, "val_loss": None,
                                "chosen_by": "last epoch (no val split)"}
    assert trial.kept == [None]


def test_the_train_rate_counts_only_epochs_that_ran_the_backbone():
    rows = [{"features_cached": True, "seconds": 1.0, "images": 100},
            {"features_cached": False, "seconds": 2.0, "images": 10}]
    assert train_rate(rows) == pytest.approx(5.0)
    assert train_rate(rows[:1]) == pytest.approx(100.0)  # only cached epochs: those are what there is
    assert train_rate([]) == 0.0


def test_input_size_is_the_option_or_the_backbones_default(tmp_path):
    assert input_size(context((HEAD,), tmp_path)) == 96
    assert input_size(context((HEAD,), tmp_path, image_size=64)) == 64
