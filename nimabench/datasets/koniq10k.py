"""KonIQ-10k (Hosu et al., IEEE TIP 2020): 10,073 in-the-wild photos, each with the counts of its 1..5
quality votes (about 120 per image).

Layout: ``koniq10k_scores_and_distributions.csv`` (image_name, c1..c5, c_total, MOS, SD, MOS_zscore) and
the images in ``1024x768/`` or ``512x384/``. The official split is in ``koniq10k_distributions_sets.csv``
(the same columns plus ``set``: training / validation / test), which also serves as the label file when
it is the only one present.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nimabench import hookimpl
from nimabench.dataset import Dataset
from nimabench.datasets.label_files import LINE, check_range, location, read_csv_table, reject_duplicates
from nimabench.datasets.label_frames import labels_from_moments, labels_from_votes
from nimabench.datasets.options import check_options, choice_option
from nimabench.datasets.splits import seeded_split
from nimabench.errors import DatasetError

LABEL_FILE = "koniq10k_scores_and_distributions.csv"
SETS_FILE = "koniq10k_distributions_sets.csv"
RESOLUTIONS = ("1024x768", "512x384")
VOTE_COLUMNS = [f"c{k}" for k in range(1, 6)]
SET_NAMES = {"training": "train", "train": "train", "validation": "val", "val": "val", "test": "test"}
SPLITS = ("auto", "official", "random")


class KonIQ10k(Dataset):
    name = "koniq10k"
    task = "technical"
    score_values = (1.0, 2.0, 3.0, 4.0, 5.0)
    description = "KonIQ-10k: 10,073 in-the-wild photos with their 1-5 quality vote histograms"
    how_to_obtain = (
        "Download koniq10k_scores_and_distributions.csv (or koniq10k_distributions_sets.csv) and the 1024x768 "
        "(or 512x384) image folder from https://database.mmsp-kn.de/koniq-10k-database.html."
    )
    label_strategies = ("votes", "maxent-mean-std", "maxent-mean", "gaussian")
    options_help: ClassVar[dict[str, str]] = {
        "resolution": f"image folder, {' or '.join(RESOLUTIONS)} (default: whichever exists, largest first)",
        "split": "auto (the official sets when koniq10k_distributions_sets.csv is present, else random), "
                 "official or random (seeded 80/10/10)",
    }

    def __init__(self, data_dir: str | Path | None = None, **kwargs: Any):
        super().__init__(data_dir, **kwargs)
        check_options(self)
        self.split_choice = choice_option(self, "split", SPLITS, "auto")
        self.resolution = (choice_option(self, "resolution", RESOLUTIONS, RESOLUTIONS[0])
                           if "resolution" in self.options else None)

    def load_labels(self) -> pd.DataFrame:
        path = self.label_file()
        columns = {"image_name": "str", **{c: "int" for c in VOTE_COLUMNS}, "MOS": "float", "SD": "float"}
        table = read_csv_table(path, columns)
        reject_duplicates(path, table, "image_name")
        check_range(path, table, "MOS", self.score_values[0], self.score_values[-1])
        row_names = [location(path, line) for line in table[LINE]]
        labels = self._distributions(table, row_names)
        folder = self.image_folder()
        paths = [self.image_path(f"{folder}/{name}", row) for name, row in zip(table["image_name"], row_names,
                                                                                 strict=True)]
        image_ids = table["image_name"].map(lambda name: Path(name).stem).to_numpy()
        labels.insert(0, "group", image_ids)
        labels.insert(0, "path", [str(p) for p in paths])
        labels.insert(0, "image_id", image_ids)
        if self.uses_official_split():
            labels["split"] = official_sets(self.require_file(SETS_FILE), table["image_name"])
        return labels

    def _distributions(self, table: pd.DataFrame, row_names: list[str]) -> pd.DataFrame:
        if self.label_strategy == "votes":
            return labels_from_votes(table[VOTE_COLUMNS].to_numpy(), self.score_values, row_names)
        return labels_from_moments(table["MOS"].to_numpy(), table["SD"].to_numpy(), self.score_values,
                                   self.label_strategy, row_names)

    def label_file(self) -> Path:
        """The scores file, else the sets file (it has the same label columns)."""
        for name in (LABEL_FILE, SETS_FILE):
            if (self.data_dir / name).is_file():
                return self.data_dir / name
        return self.require_file(LABEL_FILE)

    def image_folder(self) -> str:
        """The chosen resolution's folder, else the first that exists (a missing one gets require_file's message)."""
        folder = self.resolution or next(
            (name for name in RESOLUTIONS if (self.data_dir / name).is_dir()), RESOLUTIONS[0])
        self.require_file(folder)
        return folder

    def uses_official_split(self) -> bool:
        return self.split_choice == "official" or (
            self.split_choice == "auto" and (self.data_dir / SETS_FILE).is_file())

    def assign_splits(self, labels: pd.DataFrame) -> tuple[pd.Series, str]:
        if "split" in labels:
            return labels["split"], f"official KonIQ-10k sets ({SETS_FILE})"
        return seeded_split(labels["group"], self.seed)


def official_sets(path: Path, image_names: pd.Series) -> np.ndarray:
    """The split of each image from the ``set`` column of the sets file."""
    sets = read_csv_table(path, {"image_name": "str", "set": "str"})
    reject_duplicates(path, sets, "image_name")
    names = sets["set"].str.lower()
    unknown = ~names.isin(list(SET_NAMES))
    if unknown.any():
        row = sets[unknown.to_numpy()].iloc[0]
        raise DatasetError(f"{location(path, row[LINE])}: set {row['set']!r} is not one of training, "
                           "validation or test")
    split_of = dict(zip(sets["image_name"], names.map(SET_NAMES), strict=True))
    missing = [name for name in image_names if name not in split_of]
    if missing:
        raise DatasetError(f"{path} gives no set for {len(missing)} image(s), the first {missing[0]!r}; "
                           "use option split=random for a seeded split instead")
    return np.array([split_of[name] for name in image_names], dtype=object)


@hookimpl
def register_datasets(register):
    register(KonIQ10k)
