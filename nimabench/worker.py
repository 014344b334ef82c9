"""One trial, in a child process: ``python -m nimabench.worker`` reads a JSON request on stdin.

It resolves the trial's objects, trains with the framework's trainer, computes the metrics with the core's
NumPy code, writes the per-image test predictions and commits everything to the store in one transaction.
Progress goes to stdout as JSON lines (``{"event": "progress", ...}``) for the parent's progress bars;
logs go to stderr. Running each trial in its own process keeps TensorFlow and PyTorch apart and lets a
crash or an out-of-memory kill fail one trial, not the grid.
"""

from __future__ import annotations

import json
import logging
import sys
import traceback
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from nimabench import __version__
from nimabench.backbone import resolve_backbone
from nimabench.dataset import Manifest
from nimabench.labels import distribution_moments
from nimabench.metrics import evaluate
from nimabench.plugins import collect
from nimabench.store import Store
from nimabench.trainer import RunOptions, TrainContext, TrainResult
from nimabench.trial import TrialSpec

log = logging.getLogger("nimabench.worker")


def emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}, default=float) + "\n")
    sys.stdout.flush()


def run_trial(spec: TrialSpec, options: RunOptions, store: Store, data_dir: Path | None) -> dict[str, float]:
    dataset_class = collect("dataset").get(spec.dataset)
    manifest = dataset_class(data_dir, **spec.dataset_options).manifest()
    backbone = resolve_backbone(collect("backbone"), spec.backbone).obj
    trainer = next((e.obj for e in collect("trainer") if e.obj.framework == backbone.framework), None)
    if trainer is None:
        raise RuntimeError(f"no trainer for framework {backbone.framework!r} (install its plugin)")
    schedule = collect("schedule").get(spec.schedule)
    context = TrainContext(
        spec=spec, manifest=manifest, backbone=backbone, loss=collect("loss").get(spec.loss),
        stages=schedule.stages_for(spec.task, spec.overrides.get("epochs")), options=options,
        artefact_dir=store.artefact_dir(spec.trial_id), progress=lambda event: emit("progress", **event),
    )
    result = trainer.train(context)
    truth = manifest.frame.set_index("image_id").loc[result.test_image_ids]
    test_metrics = evaluate(result.test_predictions, manifest.distributions(truth), manifest.score_values,
                            accuracy_threshold=dataset_class.accuracy_threshold)
    predictions_path = write_predictions(context.artefact_dir, manifest, truth, result)
    artefacts = {"test_predictions": str(predictions_path.relative_to(store.results_dir))}
    if result.weights_path:
        artefacts["best_weights"] = str(
            Path(result.weights_path).resolve().relative_to(store.results_dir.resolve()))
    store.record_success(spec.trial_id, summary=summary(result, manifest, options),
                         metrics={"test": test_metrics}, history=result.history, artefacts=artefacts)
    return test_metrics


def write_predictions(directory: Path, manifest: Manifest, truth: pd.DataFrame, result: TrainResult) -> Path:
    """Per-image test predictions with the full distribution, and the truth (manifest rows) beside them (CSV)."""
    scores = manifest.score_values
    predicted = pd.DataFrame(result.test_predictions, columns=[f"pred_p{k + 1}" for k in range(len(scores))])
    pred_mean, pred_std = distribution_moments(result.test_predictions, scores)
    frame = pd.DataFrame({
        "image_id": result.test_image_ids, "group": truth["group"].to_numpy(),
        "true_mean": truth["mean"].to_numpy(), "true_std": truth["std"].to_numpy(),
        "pred_mean": pred_mean, "pred_std": pred_std,
    })
    true = truth[manifest.probability_columns].set_axis([f"true_{c}" for c in manifest.probability_columns],
                                                       axis=1).reset_index(drop=True)
    path = directory / "test_predictions.csv"
    pd.concat([frame, predicted, true], axis=1).to_csv(path, index=False, float_format="%.6g")
    return path


def summary(result: TrainResult, manifest: Manifest, options: RunOptions) -> dict[str, Any]:
    return {
        "train_seconds": result.train_seconds, "train_images_per_second": result.train_images_per_second,
        "parameters": result.parameters, "pretrained": result.pretrained,
        "features_cached": result.features_cached, "device": result.device,
        "versions": {"nimabench": __version__, **result.versions},
        "details": {"best": result.best, "split_policy": manifest.split_policy,
                    "label_strategy": manifest.label_strategy, "counts": manifest.counts(),
                    "skipped_images": len(manifest.skipped), "options": asdict(options), **result.extra},
    }


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    request = json.loads(sys.stdin.read())
    spec = TrialSpec(**request["spec"])
    options = RunOptions(**{k: (Path(v) if k.endswith("_dir") and v else v)
                            for k, v in request["options"].items()})
    store = Store(Path(request["results_dir"]))
    data_dir = Path(request["data_dir"]) if request.get("data_dir") else None
    try:
        metrics = run_trial(spec, options, store, data_dir)
    except BaseException as error:  # noqa: BLE001 - any failure fails this trial, reported to the parent
        traceback.print_exc()
        emit("error", message=f"{type(error).__name__}: {error}")
        return 1
    emit("done", metrics=metrics)
    return 0


if __name__ == "__main__":
    sys.exit(main())
