"""The torch trainer end to end on a tiny backbone at 64 px and a 40-image dataset."""

import math

import numpy as np
import pytest
import torch

from nimabench.epochs import NonFiniteLossError
from nimabench.errors import NimabenchError
from nimabench.loss import Loss
from nimabench.plugins import collect
from nimabench.pretrained import RandomInitWarning
from nimabench.schedule import Stage, learning_rate
from nimabench_timm.checkpoint import load_trained_model

HEAD_ONLY = (Stage("head", epochs=2, trainable="head", optimizer="adam", head_lr=1e-3),)


def train(context):
    return collect("trainer").get("torch").train(context)


@pytest.fixture(scope="module")
def two_stage_result(tiny_manifest, tmp_path_factory):
    """One two-stage training shared by several tests (epochs=1 per stage)."""
    from conftest import TINY_BACKBONE, TWO_STAGES

    from nimabench.trainer import RunOptions, TrainContext
    from nimabench.trial import TrialSpec

    events = []
    spec = TrialSpec(task="technical", dataset="tiny", backbone=TINY_BACKBONE, loss="emd", schedule="x")
    context = TrainContext(
        spec=spec, manifest=tiny_manifest, backbone=collect("backbone").get(TINY_BACKBONE),
        loss=collect("loss").get("emd"), stages=TWO_STAGES,
        options=RunOptions(batch_size=8, image_size=64, device="cpu", allow_random_init=True),
        artefact_dir=tmp_path_factory.mktemp("two-stage"), progress=events.append,
    )
    with pytest.warns(RandomInitWarning):
        result = train(context)
    return context, result, events


def test_two_stage_training_predicts_distributions(two_stage_result, tiny_manifest):
    context, result, _ = two_stage_result
    test_ids = list(tiny_manifest.split("test")["image_id"])
    assert result.test_image_ids == test_ids
    assert result.test_predictions.shape == (len(test_ids), 5) and result.test_predictions.dtype == np.float64
    np.testing.assert_allclose(result.test_predictions.sum(axis=1), 1.0, atol=1e-5)
    assert [row["stage"] for row in result.history] == ["head", "all"]
    assert all(math.isfinite(row["train_loss"]) and math.isfinite(row["val_loss"]) for row in result.history)
    assert result.pretrained is False and result.extra["weights_source"] == "random init"
    assert result.parameters == sum(p.numel() for p in context.backbone.build(
        num_buckets=5, pretrained=False).parameters())
    assert result.device == "cpu" and set(result.versions) >= {"torch", "timm"}
    assert result.train_seconds > 0 and result.train_images_per_second > 0


def test_head_stage_trains_on_cached_features(two_stage_result):
    _, result, events = two_stage_result
    assert result.features_cached
    assert [row["features_cached"] for row in result.history] == [True, False]
    assert any(e["phase"] == "features" for e in events)


def test_progress_events_carry_what_the_runner_shows(two_stage_result):
    _, _, events = two_stage_result
    train_events = [e for e in events if e["phase"] == "train"]
    assert {"stage", "epoch", "epochs", "batch", "batches", "loss", "eta_s"} <= set(train_events[-1])
    assert train_events[-1]["batch"] == train_events[-1]["batches"] == 3


def test_the_best_checkpoint_is_saved_and_reloads_to_the_same_scores(two_stage_result, tiny_manifest):
    context, result, _ = two_stage_result
    best_val = min(row["val_loss"] for row in result.history)
    assert result.best["val_loss"] == pytest.approx(best_val)
    model, metadata = load_trained_model(result.weights_path)
    assert metadata["backbone"] == "timm:test_efficientnet" and metadata["image_size"] == 64
    from nimabench.batches import center_crop
    from nimabench.trial_data import load_trial_data
    from nimabench_timm.data import to_model_input

    data = load_trial_data(tiny_manifest, 64)
    pixels = center_crop(data.images.array[data.test.rows], 64)
    with torch.inference_mode():
        scores = model(to_model_input(pixels, torch.device("cpu"))).numpy()
    np.testing.assert_allclose(scores, result.test_predictions, atol=1e-6)


def test_same_seed_same_predictions_and_a_different_seed_differs(make_context):
    stages = HEAD_ONLY + (Stage("top", 1, trainable=2, head_lr=1e-4, base_lr=1e-4),)
    first = train(make_context(stages=stages))
    again = train(make_context(stages=stages, artefacts="again"))
    other = train(make_context(stages=HEAD_ONLY, seed=1, artefacts="other"))
    np.testing.assert_array_equal(first.test_predictions, again.test_predictions)
    assert [r["train_loss"] for r in first.history] == [r["train_loss"] for r in again.history]
    assert not np.allclose(first.test_predictions, other.test_predictions)


def test_without_feature_cache_the_head_stage_recomputes_the_backbone(make_context):
    result = train(make_context(stages=HEAD_ONLY, cache_features=False))
    assert not result.features_cached
    assert all(not row["features_cached"] for row in result.history)


def test_learning_rate_decay_is_applied_per_step(make_context):
    stage = Stage("all", epochs=3, trainable="all", optimizer="sgd", head_lr=1e-2, base_lr=1e-3,
                  decay="step", decay_rate=0.5, decay_every=1)
    result = train(make_context(stages=(stage,)))
    assert [row["lr_head"] for row in result.history] == [learning_rate(1e-2, stage, e, 0) for e in range(3)]
    assert [row["lr_base"] for row in result.history] == [1e-3, 5e-4, 2.5e-4]


def test_missing_weights_without_random_init_is_an_error(make_context):
    with pytest.raises(NimabenchError, match="no pretrained weights for backbone 'timm:test_efficientnet'"):
        train(make_context(allow_random_init=False))


def test_a_nan_loss_fails_the_trial(make_context):
    emd = collect("loss").get("emd")
    nan_loss = Loss("nan", "always NaN", emd.reference).with_kernel(
        "torch", lambda: (lambda pred, target, scores: pred.sum(-1) * float("nan")), "test")
    with pytest.raises(NonFiniteLossError, match="training loss is nan"):
        train(make_context(loss=nan_loss, stages=HEAD_ONLY))


def test_early_stopping_ends_a_stage(make_context):
    # A zero learning rate never improves the val loss after the first epoch.
    stage = Stage("head", epochs=6, trainable="head", optimizer="sgd", head_lr=0.0)
    result = train(make_context(stages=(stage,), early_stopping_patience=2))
    assert len(result.history) == 3


def test_evaluation_is_deterministic(make_context):
    context = make_context(stages=HEAD_ONLY)
    first = train(context)
    model, _ = load_trained_model(first.weights_path)
    from nimabench.trial_data import load_trial_data
    from nimabench_timm.data import image_tensor_batches
    from nimabench_timm.loop import predict
    from nimabench_timm.runtime import Runtime

    data = load_trial_data(context.manifest, 64)
    runtime = Runtime(torch.device("cpu"))

    def scores():
        batches = image_tensor_batches(data, data.test, 3, train=False, seed=0, epoch=0,
                                       device=runtime.device)
        return predict(model, batches, runtime, 5)

    np.testing.assert_array_equal(scores(), scores())
    np.testing.assert_allclose(scores(), first.test_predictions, atol=1e-6)


def test_one_feature_view_caches_centre_crops_only(make_context):
    from nimabench.trial_data import load_trial_data
    from nimabench_timm.features import extract_features
    from nimabench_timm.runtime import Runtime

    context = make_context(stages=HEAD_ONLY)
    model = context.backbone.build(num_buckets=5, pretrained=False)
    data = load_trial_data(context.manifest, 64)
    runtime = Runtime(torch.device("cpu"))
    two = extract_features(model, data, runtime, 8)
    one = extract_features(model, data, runtime, 8, views=1)
    assert two.train_views.shape[:2] == (2, 24) and one.train_views.shape[:2] == (1, 24)
    torch.testing.assert_close(one.train_views[0], two.train_views[0])
    assert not torch.allclose(two.train_views[0], two.train_views[1])  # the mirror image is another view
    assert two.images == 2 * 24 + 8
