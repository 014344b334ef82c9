"""A user's own dataset, described by one CSV file in the data dir.

Options: ``csv`` (the file, relative to the data dir; default ``labels.csv``), ``scale`` (the score values of
the buckets as ``lo-hi`` integers, e.g. ``1-10``) and ``task`` (``aesthetic``, the default, or ``technical``).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nimabench import hookimpl
from nimabench.dataset import TASKS, Dataset
from nimabench.datasets.label_files import LINE, check_range, location, read_csv_table, reject_duplicates
from nimabench.datasets.label_frames import labels_from_moments, labels_from_votes
from nimabench.datasets.options import check_options, choice_option
from nimabench.datasets.splits import seeded_split
from nimabench.errors import DatasetError

DEFAULT_CSV = "labels.csv"
VOTE_COLUMN = re.compile(r"(?P<family>c|votes_)(?P<number>\d+)")
SCALE = re.compile(r"\s*(?P<low>\d+)\s*(?:-|\.\.)\s*(?P<high>\d+)\s*")
SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "validation": "val", "test": "test"}
NEEDS_STD = ("maxent-mean-std", "gaussian")
# nimabench.labels.LABEL_STRATEGIES, spelled out so that loading this plugin does not import scipy.stats
# (a test checks the two agree)
LABEL_STRATEGIES = ("votes", "maxent-mean", "maxent-mean-std", "gaussian")


class CSVDataset(Dataset):
    """Your own images and ratings in one CSV file (one row per image, a header line first).

    Columns:

    - ``image`` (required): the image file, relative to the data dir (it may not leave it).
    - Either vote counts, ``c1..cN`` or ``votes_1..votes_N`` (numbered consecutively; the k-th column holds
      the votes for the k-th score value of ``scale``, which defaults to 1..N) - the label is the vote
      distribution (strategy ``votes``) -
    - or ``mean`` and optionally ``std`` on the ``scale`` given as an option (required then, e.g.
      ``scale=1-10``): the label is synthesised, by ``maxent-mean-std`` when there is a std, else
      ``maxent-mean`` (or ``gaussian``, which needs a std).
    - ``split`` (optional): train / val / test (training and validation also accepted) for every row;
      without it the split is a seeded 80/10/10 by group.
    - ``group`` (optional): images with the same group (e.g. the same scene or reference) never straddle
      two splits; by default each image is its own group.

    Example::

        image,mean,std,split
        photos/beach.jpg,6.2,1.4,train
        photos/street.jpg,4.8,1.1,test
    """

    name = "csv"
    task = "aesthetic"
    score_values = tuple(float(k) for k in range(1, 11))  # replaced per instance by the file and the scale
    description = "your own images and labels, from a CSV file in the data dir (see the class docstring)"
    how_to_obtain = ("Write a CSV file (default labels.csv) with an image column and either vote columns "
                     "c1..cN or mean [std] columns with option scale=lo-hi.")
    label_strategies = LABEL_STRATEGIES
    options_help: ClassVar[dict[str, str]] = {
        "csv": f"the label file, relative to the data dir (default {DEFAULT_CSV})",
        "scale": "the bucket scores as lo-hi integers, e.g. 1-10 (required with mean/std columns)",
        "task": "aesthetic (default) or technical",
    }

    def __init__(self, data_dir: str | Path | None = None, *, label_strategy: str | None = None, **kwargs: Any):
        super().__init__(data_dir, label_strategy=label_strategy, **kwargs)
        check_options(self)
        self.task = choice_option(self, "task", TASKS, "aesthetic")
        self.csv_name = str(self.options.get("csv", DEFAULT_CSV))
        self.scale = scale_option(self)
        self.requested_strategy = label_strategy
        self.vote_columns: list[str] = []
        header = self._header()
        if header is not None:  # a missing file is reported by load_labels, with require_file's message
            self._apply_layout(header)

    def _apply_layout(self, header: list[str]) -> None:
        """Buckets and label strategy follow the file: its vote columns, or its mean/std and the scale."""
        self.vote_columns = vote_columns(self.data_dir / self.csv_name, header)
        self.score_values = self._score_values(header)
        self.label_strategy = self.requested_strategy or self._default_strategy(header)

    # -- the layout, from the header line ---------------------------------------------------------------------
    def _header(self) -> list[str] | None:
        path = self.data_dir / self.csv_name
        if not path.is_file():
            return None
        try:
            return [str(name).strip() for name in pd.read_csv(path, nrows=0, skipinitialspace=True).columns]
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
            raise DatasetError(f"{location(path, 1)}: cannot read the header ({error})") from None

    def _score_values(self, header: list[str]) -> tuple[float, ...]:
        path = self.data_dir / self.csv_name
        if self.scale is None:
            if not self.vote_columns:
                raise DatasetError(f"{path} has mean/std labels, so dataset 'csv' needs option scale=lo-hi "
                                   "(the score of the lowest and the highest bucket, e.g. scale=1-10)")
            return tuple(float(k) for k in range(1, len(self.vote_columns) + 1))
        low, high = self.scale
        if self.vote_columns and len(self.vote_columns) != high - low + 1:
            raise DatasetError(f"{path} has {len(self.vote_columns)} vote columns but option scale={low}-{high} "
                               f"has {high - low + 1} score values")
        return tuple(float(k) for k in range(low, high + 1))

    def _default_strategy(self, header: list[str]) -> str:
        if self.vote_columns:
            return "votes"
        return "maxent-mean-std" if "std" in header else "maxent-mean"

    # -- labels -----------------------------------------------------------------------------------------------
    def load_labels(self) -> pd.DataFrame:
        path = self.require_file(self.csv_name)
        header = self._header()
        self._apply_layout(header)  # again: the file may have changed since the dataset was made
        table = read_csv_table(path, column_kinds(path, header, self.vote_columns, self.label_strategy))
        reject_duplicates(path, table, "image")
        row_names = [location(path, line) for line in table[LINE]]
        labels = self._distributions(path, table, row_names)
        paths = [self.image_path(image, row) for image, row in zip(table["image"], row_names, strict=True)]
        image_ids = [str(PurePosixPath(image.replace("\\", "/")).with_suffix("")) for image in table["image"]]
        labels.insert(0, "group", table["group"].to_numpy() if "group" in table else image_ids)
        labels.insert(0, "path", [str(p) for p in paths])
        labels.insert(0, "image_id", image_ids)
        if "split" in table:
            labels["split"] = split_column(path, table)
        return labels

    def _distributions(self, path: Path, table: pd.DataFrame, row_names: list[str]) -> pd.DataFrame:
        if self.label_strategy == "votes":
            return labels_from_votes(table[self.vote_columns].to_numpy(), self.score_values, row_names)
        means, stds = self._moments(path, table, row_names)
        return labels_from_moments(means, stds, self.score_values, self.label_strategy, row_names)

    def _moments(self, path: Path, table: pd.DataFrame,
                 row_names: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """The file's mean and std columns, else the moments of its votes."""
        if "mean" not in table:
            from_votes = labels_from_votes(table[self.vote_columns].to_numpy(), self.score_values, row_names)
            return from_votes["mean"].to_numpy(), from_votes["std"].to_numpy()
        check_range(path, table, "mean", self.score_values[0], self.score_values[-1])
        if "std" not in table:
            return table["mean"].to_numpy(), None
        check_range(path, table, "std", 0.0, float("inf"))
        return table["mean"].to_numpy(), table["std"].to_numpy()

    def assign_splits(self, labels: pd.DataFrame) -> tuple[pd.Series, str]:
        if "split" in labels:
            return labels["split"], f"the split column of {self.csv_name}"
        return seeded_split(labels["group"], self.seed)


def scale_option(dataset: Dataset) -> tuple[int, int] | None:
    value = dataset.options.get("scale")
    if value is None:
        return None
    match = SCALE.fullmatch(str(value))
    if not match or int(match["low"]) >= int(match["high"]):
        raise DatasetError(f"dataset 'csv': option scale={value!r} must be lo-hi integers with lo < hi, e.g. 1-10")
    dataset.options["scale"] = f"{match['low']}-{match['high']}"
    return int(match["low"]), int(match["high"])


def vote_columns(path: Path, header: list[str]) -> list[str]:
    """``c1..cN`` or ``votes_1..votes_N``, in score order; numbered consecutively, one family only."""
    matches = [m for m in map(VOTE_COLUMN.fullmatch, header) if m]
    families = {m["family"] for m in matches}
    if len(families) > 1:
        raise DatasetError(f"{location(path, 1)}: use either c1..cN or votes_1..votes_N columns, not both")
    matches.sort(key=lambda m: int(m["number"]))
    numbers = [int(m["number"]) for m in matches]
    if numbers and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
        raise DatasetError(f"{location(path, 1)}: vote columns must be numbered consecutively, found "
                           f"{', '.join(m.string for m in matches)}")
    return [m.string for m in matches]


def column_kinds(path: Path, header: list[str], votes: list[str], strategy: str) -> dict[str, str]:
    """The columns to read and their kinds, after checking the header supports the label strategy."""
    if "image" not in header:
        raise DatasetError(f"{location(path, 1)}: missing column image (the image file, relative to the data dir)")
    if strategy == "votes" and not votes:
        raise DatasetError(f"{location(path, 1)}: label strategy votes needs vote columns c1..cN or votes_1..votes_N")
    if not votes and "mean" not in header:
        raise DatasetError(f"{location(path, 1)}: needs vote columns (c1..cN) or a mean column")
    if strategy in NEEDS_STD and not votes and "std" not in header:
        raise DatasetError(f"{location(path, 1)}: label strategy {strategy} needs a std column")
    kinds = {"image": "str", **{column: "int" for column in votes}}
    kinds |= {column: "float" for column in ("mean", "std") if column in header}
    kinds |= {column: "str" for column in ("split", "group") if column in header}
    return kinds


def split_column(path: Path, table: pd.DataFrame) -> np.ndarray:
    names = table["split"].str.lower()
    unknown = ~names.isin(list(SPLIT_NAMES))
    if unknown.any():
        row = table[unknown.to_numpy()].iloc[0]
        raise DatasetError(f"{location(path, row[LINE])}: split {row['split']!r} is not train, val or test")
    return names.map(SPLIT_NAMES).to_numpy()


@hookimpl
def register_datasets(register):
    register(CSVDataset)
