"""Throughput of the image cache and the batch path on synthetic-tid.

    PYTHONPATH=. .venv/bin/python benchmarks/image_cache.py [--executor thread|process|both] [--workers N]

Prints images/s of: generating synthetic-tid (only when its data dir is empty), the cold cache build
(a fresh cache dir), the cached reopen, and batches of 224 crops + flips from the 256 cache.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from nimabench.batches import image_batches, nima_train_augment
from nimabench.datasets.synthetic_tid import SyntheticTID
from nimabench.imagecache import ResizePolicy, build_image_cache


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="synthetic-tid data dir (default: its usual one)")
    parser.add_argument("--executor", choices=("thread", "process", "both"), default="both")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    dataset = SyntheticTID(args.data_dir)
    generated, seconds = timed(dataset.ensure_generated)
    manifest = dataset.manifest()
    n = len(manifest.frame)
    if generated:
        print(f"generate synthetic-tid: {n} images in {seconds:.1f} s ({n / seconds:.0f} images/s)")
    policy = ResizePolicy(256, "square")
    executors = ("thread", "process") if args.executor == "both" else (args.executor,)
    for executor in executors:
        with tempfile.TemporaryDirectory() as cache_dir:
            def build(executor=executor, cache_dir=cache_dir):
                return build_image_cache(manifest, policy, cache_dir=cache_dir, workers=args.workers,
                                         executor=executor)

            _, seconds = timed(build)
            print(f"cold cache build ({executor} executor): {n} images in {seconds:.2f} s ({n / seconds:.0f} images/s)")
            cached, seconds = timed(build)
            print(f"cached reopen: {seconds * 1000:.1f} ms ({n / seconds:.0f} images/s)")
            if executor == executors[-1]:
                benchmark_batches(cached, args.batch_size)


def benchmark_batches(cached, batch_size: int) -> None:
    """Batches straight from the memory map (its pages are in the page cache after the build)."""
    augment = nima_train_augment(224)
    for label, kwargs in (("gather only", {}), ("gather + 224 crop + flip", {"augment": augment})):
        start = time.perf_counter()
        count = sum(len(rows) for rows, _ in image_batches(cached, batch_size, shuffle=True, seed=0, **kwargs))
        seconds = time.perf_counter() - start
        print(f"batches from the memory map ({label}, batch {batch_size}): {count / seconds:.0f} images/s")


if __name__ == "__main__":
    main()
