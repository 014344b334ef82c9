"""The label columns of a manifest (mean, std, p1..pN) from vote counts or from published moments.

With votes, mean and std are the moments of the vote distribution. With published moments (a MOS and
perhaps its std), mean and std are the dataset's own numbers - the human truth the metrics compare
against - and the distribution is synthesised by the chosen strategy (see :mod:`nimabench.labels`); a
dataset that publishes no std gets the std of the synthesised distribution.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nimabench.dataset import probability_columns
from nimabench.errors import DatasetError, LabelError

MAXENT_STRATEGIES = ("maxent-mean", "maxent-mean-std")

# nimabench.labels is imported inside the functions: it pulls in scipy.optimize and scipy.stats (about a
# second), and dataset modules are imported whenever plugins load, where `nimabench list` must stay quick.


def labels_from_votes(votes: np.ndarray, score_values: Sequence[float],
                      row_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Label columns from an (n, buckets) array of vote counts."""
    from nimabench.labels import distribution_moments, votes_to_distribution  # lazy: see the note at the top

    try:
        p = votes_to_distribution(votes, row_names=row_names)
    except LabelError as error:
        raise DatasetError(str(error)) from None
    mean, std = distribution_moments(p, score_values)
    return label_columns(p, mean, std)


def labels_from_moments(means: np.ndarray, stds: np.ndarray | None, score_values: Sequence[float],
                        strategy: str, row_names: Sequence[str] | None = None) -> pd.DataFrame:
    """Label columns from per-image means (and stds, on the bucket scale) with one moment strategy."""
    from nimabench.labels import distribution_moments  # lazy: see the note at the top

    scores = np.asarray(score_values, dtype=np.float64)
    means = np.asarray(means, dtype=np.float64)
    stds = None if stds is None else np.asarray(stds, dtype=np.float64)
    p = np.zeros((len(means), len(scores)))
    # A mean at an end of the scale allows one distribution only, all mass on that end; the maximum-entropy
    # fits reach it only in the limit, so those rows are set directly (KADID-10k has DMOS values of 1).
    at_end = (means <= scores[0]) | (means >= scores[-1])
    if strategy not in MAXENT_STRATEGIES:
        at_end[:] = False
    p[at_end & (means <= scores[0]), 0] = 1.0
    p[at_end & (means >= scores[-1]), -1] = 1.0
    inside = ~at_end
    if inside.any():
        stds_inside = None if stds is None or strategy == "maxent-mean" else stds[inside]
        names_inside = None if row_names is None else list(np.asarray(row_names, dtype=object)[inside])
        p[inside] = _synthesised(means[inside], stds_inside, scores, strategy, names_inside)
    synthesised_std = distribution_moments(p, scores)[1]
    return label_columns(p, means, synthesised_std if stds is None else stds)


def _synthesised(means: np.ndarray, stds: np.ndarray | None, scores: np.ndarray, strategy: str,
                 row_names: Sequence[str] | None) -> np.ndarray:
    from nimabench.labels import distributions_from_moments  # lazy: see the note at the top

    try:
        return distributions_from_moments(means, stds, scores, strategy, row_names=row_names)
    except LabelError as error:
        raise DatasetError(str(error)) from None


def label_columns(p: np.ndarray, mean: np.ndarray, std: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(p, columns=probability_columns(p.shape[1]))
    frame.insert(0, "std", np.asarray(std, dtype=np.float64))
    frame.insert(0, "mean", np.asarray(mean, dtype=np.float64))
    return frame


def map_scale(x: np.ndarray, from_range: tuple[float, float], to_range: tuple[float, float]) -> np.ndarray:
    """:func:`nimabench.labels.map_scale`, imported when first used."""
    from nimabench.labels import map_scale as linear_map  # lazy: see the note at the top

    return linear_map(x, from_range, to_range)
