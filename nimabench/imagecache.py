"""The image cache: every image of a manifest decoded once, resized, and kept as uint8 NHWC on disk.

Each image is decoded with Pillow (JPEGs in draft mode, so the decoder's DCT scaling does most of a large
downscale for free), turned upright by its EXIF orientation, converted to RGB and resized by a
:class:`ResizePolicy`. The pixels go into one memory-mapped ``.npy`` under ``cache_root()/images`` named by
the dataset, the manifest's fingerprint and the policy, next to a sidecar JSON with the image ids in row
order and the images that failed to decode. Both are written under temporary names and renamed when
complete, sidecar last, so a killed build is never mistaken for a finished one. A second build finds the
sidecar and opens the array read-only with ``mmap_mode="r"``: no decoding, and pages load on demand.

Images that fail to decode are skipped with a warning naming the file, listed in ``failed`` and left out of
the array; they never stop the build.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap
from PIL import Image, ImageOps
from rich.console import Console
from rich.progress import Progress

from nimabench.dataset import Manifest, cache_root
from nimabench.errors import NimabenchError

log = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1  # bump when decoding or resizing changes, so old caches are not reused
RESIZE_MODES = ("square", "center-crop", "pad")
RESAMPLE_FILTERS = {
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}
CHUNK = 32  # images per task: big enough to amortise task overhead, small enough for a smooth progress bar


class ImageCacheError(NimabenchError):
    """A resize option or cache request that cannot work as given."""


@dataclass(frozen=True)
class ResizePolicy:
    """How each image becomes ``size`` x ``size``.

    - ``square`` (NIMA, idealo): resize to size x size; the aspect ratio is not kept.
    - ``center-crop``: scale the short side to ``size``, then cut the central square.
    - ``pad``: scale the long side to ``size``, then pad the short side with black, centred.

    Pillow's filters are antialiased when downscaling (the kernel widens with the scale factor), so
    ``bicubic`` (the default) does not alias on large downscales.
    """

    size: int = 256
    mode: str = "square"
    resample: str = "bicubic"

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < 1:
            raise ImageCacheError(f"resize size must be a positive integer, got {self.size!r}")
        if self.mode not in RESIZE_MODES:
            raise ImageCacheError(f"unknown resize mode {self.mode!r}; choose from {', '.join(RESIZE_MODES)}")
        if self.resample not in RESAMPLE_FILTERS:
            raise ImageCacheError(
                f"unknown resample filter {self.resample!r}; choose from {', '.join(RESAMPLE_FILTERS)}"
            )

    @property
    def key(self) -> str:
        return f"{self.mode}{self.size}-{self.resample}"

    def apply(self, image: Image.Image) -> Image.Image:
        target = (self.size, self.size)
        method = RESAMPLE_FILTERS[self.resample]
        if self.mode == "square":
            return image.resize(target, method)
        if self.mode == "center-crop":
            return ImageOps.fit(image, target, method)
        return ImageOps.pad(image, target, method, color=(0, 0, 0))


def load_resized(path: str | Path, policy: ResizePolicy) -> np.ndarray:
    """One image as (size, size, 3) uint8, decoded and resized exactly as the cache does it."""
    with Image.open(path) as image:
        if image.format == "JPEG":
            # Decodes at 1/2, 1/4 or 1/8 scale when that still leaves both sides >= size.
            image.draft("RGB", (policy.size, policy.size))
        upright = ImageOps.exif_transpose(image)  # what a viewer shows; phone photos rely on it
        return np.asarray(policy.apply(upright.convert("RGB")), dtype=np.uint8)


@dataclass(frozen=True)
class FailedImage:
    image_id: str
    path: str
    reason: str


@dataclass
class CachedImages:
    """The cached pixels of a manifest: ``array`` (N, size, size, 3) uint8, row i is ``image_ids[i]``."""

    array: np.ndarray
    image_ids: list[str]
    policy: ResizePolicy
    path: Path
    failed: list[FailedImage] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.image_ids)

    @cached_property
    def _row_of(self) -> dict[str, int]:
        return {image_id: row for row, image_id in enumerate(self.image_ids)}

    def rows(self, image_ids: Iterable[str]) -> np.ndarray:
        """Row indices of these image ids; an id that is not cached (failed, or never there) is an error."""
        row_of = self._row_of
        try:
            return np.fromiter((row_of[i] for i in image_ids), dtype=np.int64)
        except KeyError as missing:
            failed = {f.image_id for f in self.failed}
            why = "failed to decode" if missing.args[0] in failed else "is not in the manifest that built it"
            raise ImageCacheError(f"image {missing.args[0]!r} is not in the image cache {self.path}: it {why}") \
                from None

    def images(self, image_ids: Iterable[str]) -> np.ndarray:
        return self.array[self.rows(image_ids)]


# -- where the cache lives -------------------------------------------------------------------------------------
def cache_path(manifest: Manifest, policy: ResizePolicy, cache_dir: str | Path | None = None) -> Path:
    """``<cache_dir>/<dataset>-<fingerprint>-<policy>.npy``; ``cache_dir`` defaults to ``cache_root()/images``."""
    folder = Path(cache_dir).expanduser() if cache_dir else cache_root() / "images"
    dataset = re.sub(r"[^A-Za-z0-9_.-]", "_", manifest.dataset)
    return folder / f"{dataset}-{manifest.fingerprint()}-{policy.key}-v{CACHE_FORMAT_VERSION}.npy"


def sidecar_path(array_path: Path) -> Path:
    return array_path.with_suffix(".json")


def open_image_cache(path: Path, policy: ResizePolicy) -> CachedImages | None:
    """The finished cache at ``path``, or None when it is absent, unfinished or does not fit its sidecar."""
    try:
        sidecar = json.loads(sidecar_path(path).read_text())
        array = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return None
    image_ids = sidecar.get("image_ids", [])
    if array.shape != (len(image_ids), policy.size, policy.size, 3) or array.dtype != np.uint8:
        return None
    failed = [FailedImage(**f) for f in sidecar.get("failed", [])]
    return CachedImages(array, image_ids, policy, path, failed)


# -- building it -----------------------------------------------------------------------------------------------
def build_image_cache(manifest: Manifest, policy: ResizePolicy | None = None, *,
                      cache_dir: str | Path | None = None, workers: int | None = None,
                      progress: bool = True, executor: str = "thread") -> CachedImages:
    """The cached pixels of every image in ``manifest``, decoding only when no finished cache exists.

    ``executor`` is ``thread`` (default: Pillow releases the GIL while decoding and resizing, and threads
    write straight into the shared memory map) or ``process``; ``workers`` defaults to the usable CPUs.
    """
    policy = policy or ResizePolicy()
    path = cache_path(manifest, policy, cache_dir)
    cached = open_image_cache(path, policy)
    if cached is not None:
        return cached
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_partials(path)
    image_ids = [str(i) for i in manifest.frame["image_id"]]
    paths = [str(p) for p in manifest.frame["path"]]
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial.npy")
    try:
        failed_rows = _decode_all(partial, paths, policy, workers, progress, executor)
        failed = [FailedImage(image_ids[row], paths[row], reason) for row, reason in sorted(failed_rows.items())]
        for image in failed:
            log.warning("image cache: skipping %s: %s", image.path, image.reason)
        kept = [row for row in range(len(paths)) if row not in failed_rows]
        if failed:
            _compact(partial, kept)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    _write_sidecar(path, manifest, policy, [image_ids[row] for row in kept], failed)
    result = open_image_cache(path, policy)
    assert result is not None, f"image cache {path} unreadable right after writing it"
    return result


def _decode_all(partial: Path, paths: Sequence[str], policy: ResizePolicy, workers: int | None,
                progress: bool, executor: str) -> dict[int, str]:
    """Decode every path into row i of a new memory map at ``partial``; returns {row: reason} of failures."""
    size = policy.size
    array = open_memmap(partial, mode="w+", dtype=np.uint8, shape=(len(paths), size, size, 3))
    del array  # workers open it themselves: that works the same for threads and processes
    chunks = [list(range(start, min(start + CHUNK, len(paths)))) for start in range(0, len(paths), CHUNK)]
    failed: dict[int, str] = {}
    with _executor(executor, workers) as pool:
        # Submit before the bar starts its refresh thread, so process workers fork without it.
        futures = [pool.submit(decode_rows, str(partial), [(row, paths[row]) for row in chunk], policy)
                   for chunk in chunks]
        try:
            with progress_bar(progress) as bar:
                task = bar.add_task("decoding images", total=len(paths))
                for future, chunk in zip(futures, chunks, strict=True):
                    failed.update(future.result())
                    bar.advance(task, len(chunk))
        except BaseException:  # Ctrl-C: drop the queued chunks instead of decoding them all first
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return failed


def progress_bar(enabled: bool = True) -> Progress:
    """A transient bar on stderr, shown only on a terminal (rich would leave a blank line in a log file)."""
    console = Console(stderr=True)
    return Progress(console=console, transient=True, disable=not (enabled and console.is_terminal))


def _executor(kind: str, workers: int | None) -> Executor:
    workers = workers or available_cpus()
    if kind == "thread":
        return ThreadPoolExecutor(max_workers=workers)
    if kind == "process":
        return ProcessPoolExecutor(max_workers=workers)
    raise ImageCacheError(f"unknown executor {kind!r}; choose 'thread' or 'process'")


def available_cpus() -> int:
    """The CPUs this process may run on (a container's limit, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def decode_rows(array_path: str, rows_and_paths: list[tuple[int, str]], policy: ResizePolicy) -> dict[int, str]:
    """Decode each (row, path) into that row of the memory map; returns {row: reason} for the failures."""
    array = np.load(array_path, mmap_mode="r+")
    failed: dict[int, str] = {}
    for row, path in rows_and_paths:
        try:
            array[row] = load_resized(path, policy)
        except Exception as error:  # any undecodable file is skipped and reported, never fatal
            failed[row] = f"{type(error).__name__}: {error}"
    array.flush()
    return failed


def _compact(partial: Path, kept: list[int]) -> None:
    """Rewrite ``partial`` with only the ``kept`` rows (failures are rare, so one copy is cheap)."""
    source = np.load(partial, mmap_mode="r")
    smaller = partial.with_name(partial.name.replace(".partial", ".compact.partial"))
    target = open_memmap(smaller, mode="w+", dtype=np.uint8, shape=(len(kept), *source.shape[1:]))
    for start in range(0, len(kept), 1024):  # bounded memory even for AVA-sized caches
        rows = kept[start:start + 1024]
        target[start:start + len(rows)] = source[rows]
    target.flush()
    del source, target
    os.replace(smaller, partial)


def _write_sidecar(path: Path, manifest: Manifest, policy: ResizePolicy, image_ids: list[str],
                   failed: list[FailedImage]) -> None:
    sidecar = {"format_version": CACHE_FORMAT_VERSION, "dataset": manifest.dataset,
               "fingerprint": manifest.fingerprint(), "policy": asdict(policy), "image_ids": image_ids,
               "failed": [asdict(f) for f in failed]}
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".json.partial")
    with os.fdopen(handle, "w") as file:
        json.dump(sidecar, file)
    os.replace(temporary, sidecar_path(path))


def _remove_abandoned_partials(path: Path) -> None:
    """Delete partial files left by builds whose process no longer runs (killed mid-build)."""
    for leftover in path.parent.glob(f".{path.stem}.*.partial*"):
        pid = leftover.name[len(path.stem) + 2:].split(".", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            leftover.unlink(missing_ok=True)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
