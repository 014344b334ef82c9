"""Split policies shared by the dataset modules: each returns the split of every row and a description.

Every policy draws whole groups (reference images), so no content straddles two splits, and is seeded,
so the same seed gives the same split on any machine.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from nimabench.dataset import DEFAULT_VAL_FRACTION, group_folds, split_by_group

TEST_FRACTION = 0.1
VAL_FRACTION_OF_REST = 1 / 9  # with 10% test: 80/10/10 overall, the usual protocol without an official split


def seeded_split(groups: pd.Series, seed: int) -> tuple[pd.Series, str]:
    """80/10/10 train/val/test by group."""
    split = split_by_group(groups, test_fraction=TEST_FRACTION, val_fraction=VAL_FRACTION_OF_REST, seed=seed)
    return split, f"seeded 80/10/10 by group (seed {seed})"


def fixed_test_split(groups: pd.Series, test_groups: Iterable, seed: int, what: str,
                     val_fraction: float = DEFAULT_VAL_FRACTION) -> tuple[pd.Series, str]:
    """A given test set (an official list, or fixed references); a seeded share of the rest as val."""
    split = split_by_group(groups, test_groups=set(test_groups), val_fraction=val_fraction, seed=seed)
    return split, f"{what} as test, seeded {val_fraction:.0%} of the rest as val (seed {seed})"


def fold_split(groups: pd.Series, folds: int, fold: int, seed: int,
               val_fraction: float = DEFAULT_VAL_FRACTION) -> tuple[pd.Series, str]:
    """Fold ``fold`` of ``folds`` seeded folds by group as test (cross-validation)."""
    test_groups = group_folds(groups, folds, fold, seed=seed)
    split = split_by_group(groups, test_groups=test_groups, val_fraction=val_fraction, seed=seed)
    return split, f"fold {fold} of {folds} by group as test, seeded {val_fraction:.0%} of the rest as val (seed {seed})"
