"""LIVE In the Wild Image Quality Challenge (CLIVE; Ghadiyaram and Bovik, IEEE TIP 2016): 1,169 photos
with a 0..100 mean opinion score and its std from about 175 crowd ratings each.

Layout: ``Data/AllImages_release.mat``, ``Data/AllMOS_release.mat`` and ``Data/AllStdDev_release.mat``
(MATLAB variables of the same names: a cell array of file names and two rows of numbers, in the same
order) and the photos in ``Images/``. The first 7 entries are the raters' training images (kept in
``Images/trainingImages/``) and are dropped, as is usual, unless ``keep_training_images=true``.
MOS and std are mapped linearly onto buckets 1..10 (the std by the same factor, 9/100).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nimabench import hookimpl
from nimabench.dataset import Dataset
from nimabench.datasets.label_frames import labels_from_moments, map_scale
from nimabench.datasets.options import bool_option, check_options
from nimabench.datasets.splits import seeded_split
from nimabench.errors import DatasetError

NAMES_FILE, NAMES_VARIABLE = "Data/AllImages_release.mat", "AllImages_release"
MOS_FILE, MOS_VARIABLE = "Data/AllMOS_release.mat", "AllMOS_release"
STD_FILE, STD_VARIABLE = "Data/AllStdDev_release.mat", "AllStdDev_release"
IMAGE_DIR = "Images"
TRAINING_IMAGE_DIR = "Images/trainingImages"
N_TRAINING_IMAGES = 7
MOS_RANGE = (0.0, 100.0)


class LIVEChallenge(Dataset):
    name = "livec"
    task = "technical"
    score_values = tuple(float(k) for k in range(1, 11))
    description = "LIVE In the Wild (CLIVE): 1,162 photos (7 training images dropped), MOS 0-100 with std"
    how_to_obtain = ("Request the LIVE In the Wild Image Quality Challenge Database (ChallengeDB_release) at "
                     "https://live.ece.utexas.edu/research/ChallengeDB/index.html and unpack it.")
    label_strategies = ("maxent-mean-std", "maxent-mean", "gaussian")
    options_help: ClassVar[dict[str, str]] = {
        "keep_training_images": "true to keep the first 7 entries, the raters' training images (default false)",
    }

    def __init__(self, data_dir: str | Path | None = None, **kwargs: Any):
        super().__init__(data_dir, **kwargs)
        check_options(self)
        self.keep_training_images = bool_option(self, "keep_training_images", False)

    def load_labels(self) -> pd.DataFrame:
        names_path, mos_path, std_path = (self.require_file(f) for f in (NAMES_FILE, MOS_FILE, STD_FILE))
        names = image_names(names_path)
        mos = numbers(mos_path, MOS_VARIABLE, low=MOS_RANGE[0], high=MOS_RANGE[1])
        stds = numbers(std_path, STD_VARIABLE, low=0.0, high=np.inf)
        if not len(names) == len(mos) == len(stds):
            raise DatasetError(f"{names_path}, {mos_path} and {std_path} must list the same images in the same "
                               f"order, but have {len(names)}, {len(mos)} and {len(stds)} entries")
        entries = np.arange(1, len(names) + 1)  # 1-based, as MATLAB numbers them
        keep = entries > (0 if self.keep_training_images else N_TRAINING_IMAGES)
        return self._labels(names_path, names[keep], mos[keep], stds[keep], entries[keep])

    def _labels(self, names_path: Path, names: np.ndarray, mos: np.ndarray, stds: np.ndarray,
                entries: np.ndarray) -> pd.DataFrame:
        bucket_range = (self.score_values[0], self.score_values[-1])
        means = map_scale(mos, MOS_RANGE, bucket_range)
        bucket_stds = map_scale(stds, (0.0, MOS_RANGE[1]), (0.0, bucket_range[1] - bucket_range[0]))
        row_names = [f"{names_path}, entry {entry}" for entry in entries]
        labels = labels_from_moments(means, bucket_stds, self.score_values, self.label_strategy, row_names)
        paths = [self._image(name, row) for name, row in zip(names, row_names, strict=True)]
        image_ids = [Path(name).stem for name in names]
        labels.insert(0, "group", image_ids)
        labels.insert(0, "path", [str(p) for p in paths])
        labels.insert(0, "image_id", image_ids)
        labels["mos_0_100"] = mos
        return labels

    def _image(self, name: str, source: str) -> Path:
        path = self.image_path(f"{IMAGE_DIR}/{name}", source)
        training_copy = self.image_path(f"{TRAINING_IMAGE_DIR}/{name}", source)
        return training_copy if not path.exists() and training_copy.exists() else path

    def assign_splits(self, labels: pd.DataFrame) -> tuple[pd.Series, str]:
        return seeded_split(labels["group"], self.seed)


def load_variable(path: Path, variable: str) -> np.ndarray:
    import scipy.io  # here, not at the top: plugin modules load with every command

    try:
        contents = scipy.io.loadmat(path)
    except (scipy.io.matlab.MatReadError, ValueError, OSError, NotImplementedError) as error:
        raise DatasetError(f"{path}: cannot read the MATLAB file ({type(error).__name__}: {error})") from None
    if variable not in contents:
        found = ", ".join(k for k in contents if not k.startswith("__")) or "none"
        raise DatasetError(f"{path}: no variable {variable!r} (variables: {found})")
    return contents[variable]


def image_names(path: Path) -> np.ndarray:
    """The file names of the cell array, in order."""
    cells = load_variable(path, NAMES_VARIABLE).ravel()
    names = []
    for entry, cell in enumerate(cells, start=1):
        values = np.asarray(cell).ravel()
        if values.size != 1 or not isinstance(values[0], str) or not values[0].strip():
            raise DatasetError(f"{path}, entry {entry}: expected a file name, found {cell!r}")
        names.append(values[0].strip())
    return np.array(names, dtype=object)


def numbers(path: Path, variable: str, low: float, high: float) -> np.ndarray:
    """A row (or column) of finite numbers within [low, high]."""
    raw = load_variable(path, variable)
    try:
        values = np.asarray(raw, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise DatasetError(f"{path}: variable {variable!r} is not an array of numbers") from None
    bad = ~np.isfinite(values) | (values < low) | (values > high)
    if bad.any():
        entry = int(np.flatnonzero(bad)[0])
        raise DatasetError(f"{path}, entry {entry + 1}: {variable} {float(values[entry])!r} is not a number "
                           f"within {low:g}..{high:g}")
    return values


@hookimpl
def register_datasets(register):
    register(LIVEChallenge)
