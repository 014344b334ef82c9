"""The Dataset interface and the manifest every dataset produces.

A dataset module reads its authors' file layout and returns a label table; the base class turns that into
a :class:`Manifest`: one row per usable image with its split, its group (the reference image, so splits can
keep content apart), its bucket distribution and its mean and std. Missing and unreadable images are skipped
with a warning and counted; a malformed label line is an error naming the file and line.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from nimabench.errors import DatasetError

log = logging.getLogger(__name__)

TASKS = ("aesthetic", "technical")
SPLITS = ("train", "val", "test")
DEFAULT_VAL_FRACTION = 0.05  # idealo: 5% of train held out for validation


def probability_columns(n_buckets: int) -> list[str]:
    """``p1..pN``: the probability of the k-th score value."""
    return [f"p{k}" for k in range(1, n_buckets + 1)]


def cache_root() -> Path:
    """``$NIMABENCH_CACHE``, else ``~/.cache/nimabench``."""
    return Path(os.environ.get("NIMABENCH_CACHE") or Path.home() / ".cache" / "nimabench").expanduser()


@dataclass(frozen=True)
class SkippedImage:
    path: str
    reason: str


@dataclass
class Manifest:
    """What a dataset hands to trainers and metrics. ``frame`` columns:
    image_id, path (absolute), split, group, mean, std, p1..pN."""

    dataset: str
    task: str
    score_values: np.ndarray
    frame: pd.DataFrame
    label_strategy: str
    split_policy: str
    data_dir: Path
    skipped: list[SkippedImage] = field(default_factory=list)

    @property
    def probability_columns(self) -> list[str]:
        return probability_columns(len(self.score_values))

    def split(self, name: str) -> pd.DataFrame:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {', '.join(SPLITS)}")
        return self.frame[self.frame["split"] == name]

    def distributions(self, frame: pd.DataFrame | None = None) -> np.ndarray:
        """(n, buckets) float64 rating distributions of ``frame`` (default: every image)."""
        frame = self.frame if frame is None else frame
        return frame[self.probability_columns].to_numpy(dtype=np.float64)

    def counts(self) -> dict[str, int]:
        return {split: int((self.frame["split"] == split).sum()) for split in SPLITS}

    def fingerprint(self) -> str:
        """Identifies the pixels: image ids, paths, file sizes and modification times (not the labels)."""
        digest = hashlib.sha256(self.dataset.encode())
        for image_id, path in zip(self.frame["image_id"], self.frame["path"], strict=True):
            stat = os.stat(path)
            digest.update(f"{image_id}\0{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:16]

    def export(self, output: Path) -> None:
        self.frame.to_csv(output, index=False, float_format="%.6g")


class Dataset(ABC):
    """A dataset plugin: a subclass per dataset, registered with ``register(TheClass)``.

    Subclasses set the class attributes and implement :meth:`load_labels`; everything else (data-dir
    lookup, missing-file messages, image checks, splits) is shared here.
    """

    name: ClassVar[str]
    task: ClassVar[str]  # 'aesthetic' | 'technical'
    score_values: ClassVar[tuple[float, ...]]  # the score of each bucket, e.g. 1..10 or 0..9
    description: ClassVar[str] = ""
    how_to_obtain: ClassVar[str] = ""  # shown when files are missing
    label_strategies: ClassVar[tuple[str, ...]] = ("votes",)  # the first is the default
    accuracy_threshold: ClassVar[float | None] = None  # binary accuracy threshold (5 for AVA)
    marker_file: ClassVar[str | None] = None  # a file whose presence says the dataset is installed

    def __init__(self, data_dir: str | Path | None = None, *, seed: int = 0,
                 label_strategy: str | None = None, **options: Any):
        self.data_dir = Path(data_dir).expanduser() if data_dir else self.default_data_dir()
        self.seed = seed
        self.label_strategy = label_strategy or self.label_strategies[0]
        if self.label_strategy not in self.label_strategies:
            raise DatasetError(
                f"dataset {self.name!r} has no label strategy {self.label_strategy!r}; "
                f"choose from {', '.join(self.label_strategies)}"
            )
        self.options = options

    # -- where the files are -------------------------------------------------------------------------
    @classmethod
    def default_data_dir(cls) -> Path:
        """``$NIMABENCH_DATA/<name>``, else ``~/.cache/nimabench/data/<name>``."""
        root = os.environ.get("NIMABENCH_DATA")
        return (Path(root).expanduser() if root else cache_root() / "data") / cls.name

    @classmethod
    def availability(cls, data_dir: Path | None = None) -> str:
        """A short word for ``nimabench list``: whether the files are where nimabench looks."""
        if cls.marker_file is None:
            return "generated on first use"
        root = data_dir or cls.default_data_dir()
        return "present" if (root / cls.marker_file).exists() else f"not found in {root}"

    def require_file(self, relative: str) -> Path:
        """The path of a file the dataset needs, or an error saying where it was expected and how to get it."""
        path = self.data_dir / relative
        if not path.exists():
            raise DatasetError(
                f"dataset {self.name!r}: expected {relative} at {path}, which does not exist. "
                f"{self.how_to_obtain} Point --data-dir (or $NIMABENCH_DATA) at the folder that holds it."
            )
        return path

    def image_path(self, relative: str, source: str) -> Path:
        """Resolve an image path from a label file, refusing one that escapes the data dir."""
        root = self.data_dir.resolve()
        path = (root / relative).resolve()
        if not path.is_relative_to(root):
            raise DatasetError(f"{source}: image path {relative!r} escapes the data dir {root}")
        return path

    # -- what subclasses provide -----------------------------------------------------------------------
    @abstractmethod
    def load_labels(self) -> pd.DataFrame:
        """Parse the label files. Columns: image_id, path (absolute, via :meth:`image_path`), group,
        mean, std, p1..pN, and optionally split (when the dataset has an official split)."""

    def assign_splits(self, labels: pd.DataFrame) -> tuple[pd.Series, str]:
        """The split of each row and a short description of the policy. Default: the file's own
        ``split`` column when present, else seeded 10% test by group, then 5% of train as val."""
        if "split" in labels and labels["split"].notna().all():
            return labels["split"], "official"
        return split_by_group(labels["group"], test_fraction=0.1, seed=self.seed), "seeded 90/10 by group"

    # -- what everyone gets ----------------------------------------------------------------------------
    def manifest(self, *, check_images: bool = True) -> Manifest:
        labels = self.load_labels()
        splits, policy = self.assign_splits(labels)
        # Image ids are strings everywhere (cache keys, prediction files), whatever the label file held.
        frame = labels.assign(split=splits.to_numpy(), image_id=labels["image_id"].astype(str))
        skipped: list[SkippedImage] = []
        if check_images:
            frame, skipped = drop_unreadable_images(frame)
        columns = ["image_id", "path", "split", "group", "mean", "std",
                   *probability_columns(len(self.score_values))]
        extra = [c for c in frame.columns if c not in columns]
        return Manifest(
            dataset=self.name, task=self.task, score_values=np.asarray(self.score_values, dtype=np.float64),
            frame=frame[columns + extra].reset_index(drop=True), label_strategy=self.label_strategy,
            split_policy=policy, data_dir=self.data_dir, skipped=skipped,
        )

    def config(self) -> dict[str, Any]:
        """What identifies this dataset's labels and split (recorded with every trial)."""
        return {"dataset": self.name, "label_strategy": self.label_strategy, "seed": self.seed,
                **{k: v for k, v in sorted(self.options.items())}}

    def config_json(self) -> str:
        return json.dumps(self.config(), sort_keys=True)


def drop_unreadable_images(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[SkippedImage]]:
    """Drop rows whose image is missing or whose header Pillow cannot read, warning about each."""
    keep = np.ones(len(frame), dtype=bool)
    skipped = []
    for i, path in enumerate(frame["path"]):
        reason = unreadable_reason(Path(path))
        if reason:
            keep[i] = False
            skipped.append(SkippedImage(str(path), reason))
            log.warning("skipping image %s: %s", path, reason)
    return frame[keep], skipped


def unreadable_reason(path: Path) -> str | None:
    """Why an image cannot be used, or None. Reads only the header: full decoding happens once, in the cache."""
    if not path.is_file():
        return "missing"
    try:
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        return f"corrupt ({type(error).__name__}: {error})"
    return None


def split_by_group(groups: pd.Series | np.ndarray, *, test_fraction: float = 0.1,
                   val_fraction: float = DEFAULT_VAL_FRACTION, seed: int = 0,
                   test_groups: set | None = None) -> pd.Series:
    """Assign train/val/test so that no group (reference image) straddles two splits.

    ``test_groups`` fixes the test set (TID2013's references 01-03); otherwise a seeded ``test_fraction``
    of the groups is drawn. Then ``val_fraction`` of the remaining groups (at least one) becomes val.
    With one image per group this is a plain seeded random split.
    """
    groups = pd.Series(np.asarray(groups))
    unique = np.array(sorted(groups.unique(), key=str), dtype=object)
    rng = np.random.default_rng(seed)
    if test_groups is None:
        shuffled = rng.permutation(unique)
        n_test = max(1, round(test_fraction * len(unique)))
        test_groups = set(shuffled[:n_test])
    rest = np.array([g for g in unique if g not in test_groups], dtype=object)
    shuffled = rng.permutation(rest)
    n_val = max(1, round(val_fraction * len(rest))) if len(rest) > 1 else 0
    val_groups = set(shuffled[:n_val])
    split = np.where(groups.isin(test_groups), "test", np.where(groups.isin(val_groups), "val", "train"))
    return pd.Series(split, index=groups.index)


def group_folds(groups: pd.Series | np.ndarray, n_folds: int, fold: int, seed: int = 0) -> set:
    """The test groups of fold ``fold`` of ``n_folds`` seeded folds by group (for cross-validation)."""
    if not 0 <= fold < n_folds:
        raise DatasetError(f"fold {fold} is outside 0..{n_folds - 1}")
    unique = np.array(sorted(pd.unique(np.asarray(groups)), key=str), dtype=object)
    shuffled = np.random.default_rng(seed).permutation(unique)
    return set(np.array_split(shuffled, n_folds)[fold])
