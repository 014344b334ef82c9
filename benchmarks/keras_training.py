"""Keras training speed on the CPU: the trainer's end-to-end path vs the bare step, and inference.

    .venv/bin/python benchmarks/keras_training.py [--model mobilenet] [--steps 8] [--json out.json]

Measured with the Keras trainer's own functions (nimabench_keras), MobileNet (random init) at 224, batch 32,
Adam, EMD, every layer trainable; timings are the median step after warm-up, in images/s:

- ``bare``: the compiled train step on one random uint8 batch held in memory, in a plain loop;
- ``end-to-end``: the same step fed by the trainer's tf.data stream: the core's image cache (256 px), a
  random 224 crop + horizontal flip in NumPy, prefetched, epoch after epoch (3 batches an epoch, so epoch
  boundaries are in the measurement); the step time includes waiting for the batch;
- ``inference``: the compiled prediction (inference mode) on the centre crops of the cache, as the trainer
  evaluates.

The target is end-to-end / bare >= 0.9: the input pipeline should cost the training loop almost nothing.
The two training configurations alternate step by step, so other work on the machine disturbs both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import synthetic_manifest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NIMABENCH_LOAD_PLUGINS", "nimabench-keras")


class Bench:
    """The model, its compiled step and both batch sources, built once."""

    def __init__(self, args: argparse.Namespace):
        import numpy as np
        import tensorflow as tf
        from nimabench_keras.catalogue import BLOCK_PATTERNS
        from nimabench_keras.kernels import KERNELS
        from nimabench_keras.loop import make_predictor, make_train_step
        from nimabench_keras.optim import stage_optimizers
        from nimabench_keras.runtime import setup_runtime
        from nimabench_keras.trainable import set_trainable

        from nimabench.plugins import collect
        from nimabench.schedule import Stage
        from nimabench.trial_data import load_trial_data

        self.args = args
        self.runtime = setup_runtime("cpu", threads=args.threads, seed=0)
        backbone = collect("backbone").get(f"keras:{args.model}")
        self.parts = backbone.build_parts(num_buckets=10, weights_path=None, input_size=args.image_size)
        trainable = set_trainable(self.parts, BLOCK_PATTERNS[backbone.catalogue_entry.family], "all")
        self.stage = Stage("all", epochs=1, trainable="all", optimizer="adam", head_lr=1e-4, base_lr=1e-4)
        self.optimizers = stage_optimizers(self.stage, trainable.head, trainable.base)
        self.step = make_train_step(lambda x: self.parts.model(x, training=True), KERNELS["emd"],
                                    np.arange(1.0, 11.0), self.optimizers, jit_compile=False)
        self.predictor = make_predictor(lambda x: self.parts.model(x, training=False), jit_compile=False)
        workdir = Path(args.workdir)
        manifest = synthetic_manifest(workdir / "images", n_train=3 * args.batch_size, n_test=32)
        started = time.perf_counter()
        self.data = load_trial_data(manifest, args.image_size, 256, cache_dir=workdir / "cache")
        self.cache_seconds = time.perf_counter() - started
        rng = np.random.default_rng(0)
        size = args.image_size
        self.random_batch = (tf.constant(rng.integers(0, 256, (args.batch_size, size, size, 3), dtype=np.uint8)),
                             tf.constant(rng.dirichlet(np.ones(10), args.batch_size).astype(np.float32)))

    def bare_batches(self):
        while True:
            yield self.random_batch

    def pipeline_batches(self):
        """The trainer's training batches: one tf.data stream over the cache, epoch after epoch."""
        from nimabench_keras.pipeline import EpochStream

        from nimabench.trial_data import numpy_batches

        def epoch_batches(epoch):
            return numpy_batches(self.data, self.data.train, self.args.batch_size, train=True, seed=0, epoch=epoch)

        stream = EpochStream(epoch_batches, 0, self.data.image_size, 10)
        while True:
            yield from stream.next_epoch(self.data.train_batch_count(self.args.batch_size))

    def evaluation_batches(self):
        """The trainer's evaluation batches: centre crops of the test split, straight from the cache."""
        from nimabench.trial_data import numpy_batches

        while True:
            yield from numpy_batches(self.data, self.data.test, self.args.batch_size, train=False, seed=0, epoch=0)

    def time_step(self, batches) -> float:
        started = time.perf_counter()
        float(self.step(*next(batches)))  # float(): wait for the step; includes fetching the batch
        return time.perf_counter() - started

    def time_inference(self, warmup: int, batches: int) -> float:
        source = self.evaluation_batches()
        for _ in range(warmup):
            self.predictor(next(source)[0]).numpy()
        images, started = 0, time.perf_counter()
        for _ in range(batches):
            pixels = next(source)[0]
            self.predictor(pixels).numpy()
            images += len(pixels)
        return images / (time.perf_counter() - started)


def run(args: argparse.Namespace) -> dict:
    import keras
    import tensorflow as tf

    bench = Bench(args)
    sources = {"bare": bench.bare_batches(), "end-to-end": bench.pipeline_batches()}
    for batches in sources.values():
        for _ in range(args.warmup):
            bench.time_step(batches)
    times: dict[str, list[float]] = {name: [] for name in sources}
    for _ in range(args.steps):  # one step of each in turn: a load that comes and goes hits both alike
        for name, batches in sources.items():
            times[name].append(bench.time_step(batches))
    rates = {name: args.batch_size / statistics.median(values) for name, values in times.items()}
    return {
        "model": f"keras:{args.model}", "image_size": args.image_size, "batch_size": args.batch_size,
        "threads": tf.config.threading.get_intra_op_parallelism_threads() or "default", "cpus": os.cpu_count(),
        "tensorflow": tf.__version__, "keras": keras.__version__, "runtime": bench.runtime.describe(),
        "train_images_per_second": rates, "ratio_end_to_end_to_bare": rates["end-to-end"] / rates["bare"],
        "step_seconds": times, "inference_images_per_second": bench.time_inference(1, args.inference_batches),
        "image_cache_build_seconds": bench.cache_seconds,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="mobilenet", help="a keras catalogue name [mobilenet]")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=8, help="timed steps per configuration")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per configuration first")
    parser.add_argument("--inference-batches", type=int, default=4)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        args.workdir = workdir
        result = run(args)
    text = json.dumps(result, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if result["ratio_end_to_end_to_bare"] >= 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
