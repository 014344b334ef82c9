"""AVA (Murray, Marchesotti and Perronnin, CVPR 2012): about 255,500 DPChallenge photos, each with the
histogram of its 1..10 aesthetic votes - the dataset NIMA was built for.

Layout: ``AVA.txt`` (``index image_id c1 ... c10 tag1 tag2 challenge_id``, c_k = votes for score k),
``images/<image_id>.jpg``, and optionally the official test list ``aesthetics_image_lists/generic_test.jpgl``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from nimabench import hookimpl
from nimabench.dataset import Dataset, split_by_group
from nimabench.datasets.label_files import LINE, read_whitespace_table, reject_duplicates
from nimabench.datasets.label_frames import labels_from_votes
from nimabench.datasets.options import check_options, choice_option
from nimabench.datasets.splits import TEST_FRACTION, fixed_test_split
from nimabench.errors import DatasetError

LABEL_FILE = "AVA.txt"
TEST_LIST = "aesthetics_image_lists/generic_test.jpgl"
IMAGE_DIR = "images"
VOTE_COLUMNS = [f"c{k}" for k in range(1, 11)]
FIELDS = [("index", "int"), ("image_id", "str"), *[(c, "int") for c in VOTE_COLUMNS],
          ("tag1", "int"), ("tag2", "int"), ("challenge_id", "int")]
SPLITS = ("auto", "official", "random")


class AVA(Dataset):
    name = "ava"
    task = "aesthetic"
    score_values = tuple(float(k) for k in range(1, 11))
    description = "AVA: ~255,500 DPChallenge photos with their 1-10 aesthetic vote histograms (CVPR 2012)"
    how_to_obtain = (
        "AVA is distributed by its authors (Murray, Marchesotti and Perronnin, 'AVA: A Large-Scale Database for "
        "Aesthetic Visual Analysis', CVPR 2012); download AVA.txt, aesthetics_image_lists/ and the images/ "
        "folder from one of the mirrors listed at https://github.com/imfing/ava_downloader."
    )
    label_strategies = ("votes",)
    accuracy_threshold = 5.0
    options_help: ClassVar[dict[str, str]] = {
        "split": "auto (the official test list when present, else random), official or random (idealo's 90/10)",
    }

    def __init__(self, data_dir: str | Path | None = None, **kwargs: Any):
        super().__init__(data_dir, **kwargs)
        check_options(self)
        self.split_choice = choice_option(self, "split", SPLITS, "auto")

    def load_labels(self) -> pd.DataFrame:
        path = self.require_file(LABEL_FILE)
        table = read_whitespace_table(path, FIELDS)
        _check_image_ids(path, table)
        reject_duplicates(path, table, "image_id")
        row_names = f"{path}, line " + table[LINE].astype(str)
        labels = labels_from_votes(table[VOTE_COLUMNS].to_numpy(), self.score_values, row_names.to_list())
        # Ids are all digits (checked above), so one resolved folder and string concatenation are safe;
        # resolving 255,500 paths one by one would take longer than parsing the file.
        folder = self.image_path(IMAGE_DIR, str(path))
        labels.insert(0, "group", table["image_id"].to_numpy())
        labels.insert(0, "path", (str(folder) + "/" + table["image_id"] + ".jpg").to_numpy())
        labels.insert(0, "image_id", table["image_id"].to_numpy())
        labels["challenge_id"] = table["challenge_id"].to_numpy()
        return labels

    def assign_splits(self, labels: pd.DataFrame) -> tuple[pd.Series, str]:
        test_list = self.data_dir / TEST_LIST
        if self.split_choice == "official" or (self.split_choice == "auto" and test_list.exists()):
            test_ids = official_test_ids(self.require_file(TEST_LIST))
            return fixed_test_split(labels["group"], test_ids, self.seed, f"the official test list ({TEST_LIST})")
        split = split_by_group(labels["group"], test_fraction=TEST_FRACTION, seed=self.seed)
        return split, f"seeded random 90/10 (idealo), then 5% of train as val (seed {self.seed})"


def official_test_ids(path: Path) -> set[str]:
    """The image ids of ``generic_test.jpgl``, one per line (a trailing ``.jpg`` is tolerated)."""
    ids = read_whitespace_table(path, [("image_id", "str")])["image_id"]
    return set(ids.str.removesuffix(".jpg"))


def _check_image_ids(path: Path, table: pd.DataFrame) -> None:
    bad = ~table["image_id"].str.fullmatch(r"\d+")
    if bad.any():
        row = table[bad.to_numpy()].iloc[0]
        raise DatasetError(f"{path}, line {row[LINE]}: image_id must be a number, found {row['image_id']!r}")


@hookimpl
def register_datasets(register):
    register(AVA)
