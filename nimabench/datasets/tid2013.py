"""TID2013 (Ponomarenko et al., 2015): 3,000 distorted images of 25 references (24 distortion types x 5
levels), with a mean opinion score on a 0..9 scale and its std - NIMA's technical-quality dataset.

Layout: ``mos_with_names.txt`` (``<mos> <file name>``), ``mos_std.txt`` (one std per line, same order) and
``distorted_images/iXX_YY_Z.bmp`` (XX reference, YY distortion type, Z level). Only moments are published,
so the bucket distribution is synthesised (maximum entropy with the MOS and std, by default).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from nimabench import hookimpl
from nimabench.dataset import Dataset
from nimabench.datasets.label_files import LINE, check_range, read_whitespace_table, reject_duplicates
from nimabench.datasets.label_frames import labels_from_moments
from nimabench.datasets.options import check_options, fold_option
from nimabench.datasets.splits import fixed_test_split, fold_split
from nimabench.errors import DatasetError

MOS_FILE = "mos_with_names.txt"
STD_FILE = "mos_std.txt"
IMAGE_DIR = "distorted_images"
NAME_PATTERN = re.compile(r"i(?P<reference>\d{2})_(?P<distortion>\d{2})_(?P<level>\d)\.bmp", re.IGNORECASE)
TEST_REFERENCES = ("I01", "I02", "I03")  # idealo's test set: 360 images


class TID2013(Dataset):
    name = "tid2013"
    task = "technical"
    score_values = tuple(float(k) for k in range(10))
    description = "TID2013: 3,000 images, 25 references x 24 distortions x 5 levels, MOS 0-9 with std"
    how_to_obtain = ("Download tid2013.rar from the TID2013 page (Ponomarenko et al.), "
                     "http://www.ponomarenko.info/tid2013.htm, and unpack it.")
    label_strategies = ("maxent-mean-std", "maxent-mean", "gaussian")
    options_help: ClassVar[dict[str, str]] = {
        "folds": "number of seeded folds by reference for cross-validation (with fold)",
        "fold": "which fold (0-based) is the test set (with folds); default: references 01-03 as test",
    }

    def __init__(self, data_dir: str | Path | None = None, **kwargs: Any):
        super().__init__(data_dir, **kwargs)
        check_options(self)
        self.folds = fold_option(self)

    def load_labels(self) -> pd.DataFrame:
        mos_path, std_path = self.require_file(MOS_FILE), self.require_file(STD_FILE)
        table = read_whitespace_table(mos_path, [("mos", "float"), ("file_name", "str")])
        stds = read_whitespace_table(std_path, [("std", "float")])
        if len(stds) != len(table):
            raise DatasetError(f"{mos_path} lists {len(table)} images but {std_path} has {len(stds)} stds; "
                               "the two files must have one line per image, in the same order")
        table["std"] = stds["std"].to_numpy()
        check_range(mos_path, table, "mos", self.score_values[0], self.score_values[-1])
        check_range(std_path, stds, "std", 0.0, float("inf"))
        reject_duplicates(mos_path, table, "file_name")
        table["group"] = [reference_of(name, mos_path, line)
                          for name, line in zip(table["file_name"], table[LINE], strict=True)]
        return self._labels(mos_path, table)

    def _labels(self, mos_path: Path, table: pd.DataFrame) -> pd.DataFrame:
        row_names = [f"{mos_path}, line {line}" for line in table[LINE]]
        labels = labels_from_moments(table["mos"].to_numpy(), table["std"].to_numpy(), self.score_values,
                                     self.label_strategy, row_names)
        on_disk = name_on_disk(self.require_file(IMAGE_DIR))
        paths = [self.image_path(f"{IMAGE_DIR}/{on_disk(name)}", row)
                 for name, row in zip(table["file_name"], row_names, strict=True)]
        labels.insert(0, "group", table["group"].to_numpy())
        labels.insert(0, "path", [str(path) for path in paths])
        labels.insert(0, "image_id", [Path(name).stem.lower() for name in table["file_name"]])
        return labels

    def assign_splits(self, labels: pd.DataFrame) -> tuple[pd.Series, str]:
        if self.folds is not None:
            return fold_split(labels["group"], *self.folds, seed=self.seed)
        return fixed_test_split(labels["group"], TEST_REFERENCES, self.seed, "references 01-03 (idealo)")


def reference_of(file_name: str, path: Path, line: int) -> str:
    """``I07`` for ``i07_13_4.bmp``: the reference image, the group that keeps content out of two splits."""
    match = NAME_PATTERN.fullmatch(file_name)
    if not match:
        raise DatasetError(f"{path}, line {line}: file name {file_name!r} is not of the form iXX_YY_Z.bmp")
    return f"I{match['reference']}"


def name_on_disk(folder: Path) -> Callable[[str], str]:
    """Maps a listed name to the file's name in ``folder``: the exact name when it exists, else the one that
    differs only in case (copies of TID2013 differ in the case of names and extensions), else unchanged."""
    names = {entry.name for entry in folder.iterdir()}
    by_lower = {name.lower(): name for name in sorted(names)}
    return lambda name: name if name in names else by_lower.get(name.lower(), name)


@hookimpl
def register_datasets(register):
    register(TID2013)
