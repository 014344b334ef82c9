"""KADID-10k (Lin, Hosu and Saupe, QoMEX 2019): 10,125 images, 81 references x 25 distortions x 5 levels,
each with a degradation score on a 1..5 scale (higher is better) and its variance.

Layout: ``dmos.csv`` (dist_img, ref_img, dmos, var) and ``images/<dist_img>``. Only moments are published,
so the bucket distribution is synthesised, with std = sqrt(var).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nimabench import hookimpl
from nimabench.dataset import Dataset
from nimabench.datasets.label_files import LINE, check_range, location, read_csv_table, reject_duplicates
from nimabench.datasets.label_frames import labels_from_moments
from nimabench.datasets.options import check_options, fold_option
from nimabench.datasets.splits import fold_split, seeded_split

LABEL_FILE = "dmos.csv"
IMAGE_DIR = "images"


class KADID10k(Dataset):
    name = "kadid10k"
    task = "technical"
    score_values = (1.0, 2.0, 3.0, 4.0, 5.0)
    description = "KADID-10k: 10,125 images, 81 references x 25 distortions x 5 levels, DMOS 1-5 with variance"
    how_to_obtain = ("Download kadid10k.zip from https://database.mmsp-kn.de/kadid-10k-database.html "
                     "and unpack it (it holds dmos.csv and images/).")
    label_strategies = ("maxent-mean-std", "maxent-mean", "gaussian")
    options_help: ClassVar[dict[str, str]] = {
        "folds": "number of seeded folds by reference for cross-validation (with fold)",
        "fold": "which fold (0-based) is the test set (with folds); default: seeded 80/10/10 by reference",
    }

    def __init__(self, data_dir: str | Path | None = None, **kwargs: Any):
        super().__init__(data_dir, **kwargs)
        check_options(self)
        self.folds = fold_option(self)

    def load_labels(self) -> pd.DataFrame:
        path = self.require_file(LABEL_FILE)
        table = read_csv_table(path, {"dist_img": "str", "ref_img": "str", "dmos": "float", "var": "float"})
        reject_duplicates(path, table, "dist_img")
        check_range(path, table, "dmos", self.score_values[0], self.score_values[-1])
        check_range(path, table, "var", 0.0, float("inf"))
        row_names = [location(path, line) for line in table[LINE]]
        labels = labels_from_moments(table["dmos"].to_numpy(), np.sqrt(table["var"].to_numpy()),
                                     self.score_values, self.label_strategy, row_names)
        paths = [self.image_path(f"{IMAGE_DIR}/{name}", row)
                 for name, row in zip(table["dist_img"], row_names, strict=True)]
        labels.insert(0, "group", table["ref_img"].map(lambda name: Path(name).stem).to_numpy())
        labels.insert(0, "path", [str(p) for p in paths])
        labels.insert(0, "image_id", table["dist_img"].map(lambda name: Path(name).stem).to_numpy())
        return labels

    def assign_splits(self, labels: pd.DataFrame) -> tuple[pd.Series, str]:
        if self.folds is not None:
            return fold_split(labels["group"], *self.folds, seed=self.seed)
        return seeded_split(labels["group"], self.seed)


@hookimpl
def register_datasets(register):
    register(KADID10k)
