"""PyTorch training speed on the CPU: PyTorch's defaults vs nimabench's training path, and the feature cache.

    .venv/bin/python benchmarks/timm_training.py [--model mobilenetv3_large_100] [--rounds 2] [--steps 5]

Training steps (batch 32 at 224, Adam, EMD; timings are the median step after warm-up, in images/s):

- ``a``: the bare step on random tensors in a plain loop with PyTorch's defaults (NCHW, glibc malloc as is);
- ``channels-last`` and ``malloc``: the same bare step with one fix each, to show what each contributes;
- ``both``: the bare step with both fixes;
- ``b``: nimabench's end to end: the trainer's own train-step path reading the core's image cache (256 px),
  random 224 crop + flip in NumPy, uint8 -> channels-last tensor, normalisation in torch, tuned malloc.

Each configuration runs in its own process (malloc settings are per process), the rounds interleaved, so a
machine shared with other work disturbs all of them alike. Then a 5-epoch head-only stage through the
trainer with the feature cache and without it (recomputing the frozen backbone every epoch).

Two rates are printed: wall clock (images per second) and CPU time (images per CPU-second of this process,
user + system, page faults included). On a machine shared with other jobs the wall clock measures the
neighbours too; with ``--threads 1`` the CPU-time rate is the work itself and barely moves with them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import synthetic_manifest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

STEP_CONFIGS = {  # name -> (channels_last, tuned malloc, end to end)
    "a": (False, False, False),
    "channels-last": (True, False, False),
    "malloc": (False, True, False),
    "both": (True, True, False),
    "b": (True, True, True),
}


# -- one configuration, in a child process -------------------------------------------------------------------
def step_worker(config: str, args: argparse.Namespace) -> dict:
    channels_last, malloc, end_to_end = STEP_CONFIGS[config]
    os.environ["NIMABENCH_MALLOC"] = args.malloc_preset if malloc else "default"
    import torch
    from nimabench_timm.allocator import tune_malloc

    applied = tune_malloc()  # before torch allocates anything large
    if args.threads:
        torch.set_num_threads(args.threads)
    model, step = _model_and_step(args, channels_last)
    batches = _cache_batches(args, channels_last) if end_to_end else _random_batches(args, channels_last)
    wall, cpu, faults = _time_steps(step, batches, args.warmup, args.steps)
    return {"config": config, "malloc": applied, "step_seconds": wall, "step_cpu_seconds": cpu,
            "minflt_per_step": faults, "threads": torch.get_num_threads(),
            "images_per_second": args.batch_size / statistics.median(wall),
            "images_per_cpu_second": args.batch_size / statistics.median(cpu)}


def _model_and_step(args: argparse.Namespace, channels_last: bool):
    import torch
    from nimabench_timm.kernels import KERNELS
    from nimabench_timm.loop import StepContext, train_step
    from nimabench_timm.optim import make_optimizer
    from nimabench_timm.runtime import Runtime

    from nimabench.plugins import collect
    from nimabench.schedule import Stage

    torch.manual_seed(0)
    model = collect("backbone").get(f"timm:{args.model}").build(num_buckets=10, pretrained=False)
    model = model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format).train()
    stage = Stage("all", epochs=1, trainable="all", optimizer="adam", head_lr=1e-4, base_lr=1e-4)
    optimizer = make_optimizer(stage, list(model.head.parameters()), list(model.base.parameters()))
    scores = torch.arange(1.0, 11.0)
    context = StepContext(model, optimizer, KERNELS["emd"], scores, stage, Runtime(torch.device("cpu")))
    return model, lambda inputs, targets: train_step(context, inputs, targets)


def _random_batches(args: argparse.Namespace, channels_last: bool):
    """The same random uint8 batch every step: a bare loop that does no data work."""
    import torch

    pixels = torch.randint(0, 256, (args.batch_size, 3, args.image_size, args.image_size), dtype=torch.uint8)
    if channels_last:
        pixels = pixels.contiguous(memory_format=torch.channels_last)
    targets = torch.softmax(torch.randn(args.batch_size, 10), dim=-1)
    while True:
        yield pixels, targets


def _cache_batches(args: argparse.Namespace, channels_last: bool):
    """The trainer's batches: image cache -> random crop + flip -> channels-last uint8 tensors."""
    import torch
    from nimabench_timm.data import image_tensor_batches

    from nimabench.trial_data import load_trial_data

    manifest = synthetic_manifest(Path(args.workdir) / "images", n_train=3 * args.batch_size)
    data = load_trial_data(manifest, args.image_size, 256, cache_dir=Path(args.workdir) / "cache", progress=True)
    epoch = 0
    while True:
        yield from image_tensor_batches(data, data.train, args.batch_size, train=True, seed=0, epoch=epoch,
                                        device=torch.device("cpu"), channels_last=channels_last)
        epoch += 1


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _time_steps(step, batches, warmup: int, steps: int) -> tuple[list[float], list[float], float]:
    for _ in range(warmup):
        step(*next(batches))
    wall, cpu = [], []
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        started, started_cpu = time.perf_counter(), cpu_seconds()
        step(*next(batches))  # includes fetching and augmenting the batch for "b"
        wall.append(time.perf_counter() - started)
        cpu.append(cpu_seconds() - started_cpu)
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / steps
    return wall, cpu, faults


# -- the feature cache, in a child process -------------------------------------------------------------------
def feature_worker(args: argparse.Namespace) -> dict:
    import torch
    from nimabench_timm.training import TrialRun

    from nimabench.trial_data import load_trial_data

    if args.threads:
        torch.set_num_threads(args.threads)
    stage_cpu: list[float] = []
    run_stage = TrialRun.run_stage

    def timed_run_stage(self, stage):  # the CPU time of the stage alone, feature extraction included
        started = cpu_seconds()
        run_stage(self, stage)
        stage_cpu.append(cpu_seconds() - started)

    TrialRun.run_stage = timed_run_stage
    workdir = Path(args.workdir)
    manifest = synthetic_manifest(workdir / "images", n_train=args.feature_images)
    # the image cache: not timed
    load_trial_data(manifest, args.image_size, 256, cache_dir=workdir / "cache", progress=True)

    def seconds(cached: bool, epochs: int, views: int = 2) -> tuple[float, float]:
        result = head_stage_trial(args, manifest, workdir, cached, epochs, views)
        return result.train_seconds, stage_cpu[-1]

    seconds(True, 1), seconds(False, 1)  # warm-up: the first passes of a process set up oneDNN's kernels
    results: dict[str, list[tuple[float, float]]] = {"cached": [], "cached-1-view": [], "recomputed": []}
    for _ in range(args.rounds):
        results["cached"].append(seconds(True, args.epochs))
        results["cached-1-view"].append(seconds(True, args.epochs, views=1))
        results["recomputed"].append(seconds(False, args.epochs))
    return results


def head_stage_trial(args: argparse.Namespace, manifest, workdir: Path, cached: bool, epochs: int,
                     views: int):
    from nimabench_timm.training import train_trial

    from nimabench.plugins import collect
    from nimabench.schedule import Stage
    from nimabench.trainer import RunOptions, TrainContext
    from nimabench.trial import TrialSpec

    stage = Stage("head", epochs=epochs, trainable="head", optimizer="adam", head_lr=1e-3)
    spec = TrialSpec(task="aesthetic", dataset="bench", backbone=f"timm:{args.model}", loss="emd",
                     schedule="head-only", overrides={"feature_views": views})
    options = RunOptions(batch_size=args.batch_size, image_size=args.image_size, device="cpu",
                         allow_random_init=True, cache_features=cached, cache_dir=workdir / "cache")
    context = TrainContext(spec=spec, manifest=manifest, backbone=collect("backbone").get(spec.backbone),
                           loss=collect("loss").get("emd"), stages=(stage,), options=options,
                           artefact_dir=workdir / f"artefacts-{cached}")
    return train_trial(context)


# -- the parent: interleaved rounds, then the summary --------------------------------------------------------
def run_child(kind: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--child", kind, *sys.argv[1:]]
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    if args.child:
        result = feature_worker(args) if args.child == "features" else step_worker(args.child, args)
        print(json.dumps(result))
        return
    with tempfile.TemporaryDirectory() as workdir:
        sys.argv += ["--workdir", workdir]
        args.workdir = workdir
        rates = measure_steps(args)
        features = None if args.skip_features else run_child("features", args)
    report(args, rates, features)


def measure_steps(args: argparse.Namespace) -> dict[str, list[tuple[float, float]]]:
    """name -> [(wall img/s, img per CPU-second)] over the rounds."""
    rates: dict[str, list[tuple[float, float]]] = {name: [] for name in args.configs}
    for round_number in range(args.rounds):
        for name in args.configs:
            result = run_child(name, args)
            rates[name].append((result["images_per_second"], result["images_per_cpu_second"]))
            print(f"round {round_number + 1} {name:14s} {result['images_per_second']:6.1f} img/s wall "
                  f"{result['images_per_cpu_second']:6.1f} img/CPU-s  threads {result['threads']}  "
                  f"minor faults/step {result['minflt_per_step']:8.0f}", flush=True)
    return rates


def report(args: argparse.Namespace, rates: dict[str, list[tuple[float, float]]], features: dict) -> None:
    print(f"\n{args.model} at {args.image_size}, batch {args.batch_size}, CPU, "
          f"median of {args.rounds} rounds x {args.steps} steps (each round: its median step)")
    for column, label in ((0, "wall clock, img/s"), (1, "CPU time, img per CPU-second")):
        median = {name: statistics.median(v[column] for v in values) for name, values in rates.items()}
        print(f"  {label}:")
        for name, value in median.items():
            relative = f"  ({value / median['a']:.2f}x a)" if "a" in median else ""
            print(f"    {name:14s} {value:6.1f}{relative}")
        if set(STEP_CONFIGS) <= set(median):
            print(f"    (b)/(a) = {median['b'] / median['a']:.2f} (target >= 1.3); channels-last alone "
                  f"{median['channels-last'] / median['a']:.2f}x, malloc alone "
                  f"{median['malloc'] / median['a']:.2f}x, both {median['both'] / median['a']:.2f}x; "
                  f"b / both = {median['b'] / median['both']:.2f}")
    if features:
        report_features(args, features)


def report_features(args: argparse.Namespace, features: dict) -> None:
    print(f"\nhead-only stage, {args.epochs} epochs, {args.feature_images} train + 8 val images, batch "
          f"{args.batch_size}, median of {args.rounds}:")
    labels = {"cached": "feature cache, 2 views (default)", "cached-1-view": "feature cache, 1 view"}
    for column, unit in ((0, "s wall"), (1, "CPU-s")):
        seconds = {key: statistics.median(v[column] for v in values) for key, values in features.items()}
        recomputed = seconds["recomputed"]
        print(f"  recomputing the backbone each epoch {recomputed:6.1f} {unit}")
        for key, label in labels.items():
            print(f"  {label:35s} {seconds[key]:6.1f} {unit}: {recomputed / seconds[key]:.1f}x faster "
                  "(target >= 4)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="mobilenetv3_large_100")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the feature-cache comparison")
    parser.add_argument("--feature-images", type=int, default=96, help="train images of that comparison")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--malloc-preset", default="no-mmap", help="nimabench_timm.allocator preset to use")
    parser.add_argument("--configs", type=lambda text: text.split(","), default=list(STEP_CONFIGS),
                        help=f"step configurations to time (default: {','.join(STEP_CONFIGS)})")
    parser.add_argument("--skip-features", action="store_true", help="skip the feature-cache comparison")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    main()
