"""SPAQ (Fang et al., CVPR 2020): 11,125 smartphone photos with a 0..100 mean opinion score.

Layout: ``Annotations/MOS and Image attribute scores.xlsx`` (columns ``Image name``, ``MOS`` and five
attribute scores) and the photos in ``TestImage/``. The MOS is mapped linearly onto buckets 1..10.

SPAQ publishes no std, so the default label is the maximum-entropy distribution with the MOS as its mean.
``gaussian`` labels need a spread that the data does not give: they are offered only with an explicit
``gaussian_std`` option (on the 1..10 bucket scale), so that no invented number hides in a default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nimabench import hookimpl
from nimabench.dataset import Dataset
from nimabench.datasets.label_files import LINE, check_range, location, read_excel_table, reject_duplicates
from nimabench.datasets.label_frames import labels_from_moments, map_scale
from nimabench.datasets.options import check_options, float_option
from nimabench.datasets.splits import seeded_split
from nimabench.errors import DatasetError

LABEL_FILE = "Annotations/MOS and Image attribute scores.xlsx"
IMAGE_DIR = "TestImage"
MOS_RANGE = (0.0, 100.0)


class SPAQ(Dataset):
    name = "spaq"
    task = "technical"
    score_values = tuple(float(k) for k in range(1, 11))
    description = "SPAQ: 11,125 smartphone photos, MOS 0-100 (mapped onto 1-10)"
    how_to_obtain = ("Download SPAQ (the TestImage folder and the Annotations folder) via the links at "
                     "https://github.com/h4nwei/SPAQ.")
    label_strategies = ("maxent-mean", "gaussian")
    options_help: ClassVar[dict[str, str]] = {
        "gaussian_std": "the std of every gaussian label on the 1..10 scale (required by label strategy gaussian)",
    }

    def __init__(self, data_dir: str | Path | None = None, **kwargs: Any):
        super().__init__(data_dir, **kwargs)
        check_options(self)
        self.gaussian_std = float_option(self, "gaussian_std")
        if self.label_strategy == "gaussian" and not (self.gaussian_std and self.gaussian_std > 0):
            raise DatasetError("dataset 'spaq' publishes no std: label strategy gaussian needs option "
                               "gaussian_std=<std > 0 on the 1..10 scale>, for example gaussian_std=1.5")

    def load_labels(self) -> pd.DataFrame:
        path = self.require_file(LABEL_FILE)
        table = read_excel_table(path, {"Image name": "str", "MOS": "float"})
        reject_duplicates(path, table, "Image name", unit="row")
        check_range(path, table, "MOS", *MOS_RANGE, unit="row")
        row_names = [location(path, row, "row") for row in table[LINE]]
        means = map_scale(table["MOS"].to_numpy(), MOS_RANGE, (self.score_values[0], self.score_values[-1]))
        stds = None if self.label_strategy == "maxent-mean" else np.full(len(means), self.gaussian_std)
        labels = labels_from_moments(means, stds, self.score_values, self.label_strategy, row_names)
        paths = [self.image_path(f"{IMAGE_DIR}/{name}", row)
                 for name, row in zip(table["Image name"], row_names, strict=True)]
        image_ids = table["Image name"].map(lambda name: Path(name).stem).to_numpy()
        labels.insert(0, "group", image_ids)
        labels.insert(0, "path", [str(p) for p in paths])
        labels.insert(0, "image_id", image_ids)
        labels["mos_0_100"] = table["MOS"].to_numpy()
        return labels

    def assign_splits(self, labels: pd.DataFrame) -> tuple[pd.Series, str]:
        return seeded_split(labels["group"], self.seed)


@hookimpl
def register_datasets(register):
    register(SPAQ)
