"""Fixtures shared across the core tests."""

from __future__ import annotations

import os
import tempfile

import pytest

# Core tests see only the built-in plugins (the framework plugins test themselves in their own processes),
# and never touch the user's caches. Set before any test imports nimabench.plugins.
os.environ["NIMABENCH_LOAD_PLUGINS"] = ""
os.environ["NIMABENCH_CACHE"] = tempfile.mkdtemp(prefix="nimabench-test-cache-")
os.environ.pop("NIMABENCH_DATA", None)

# 4 photos x 1 view x 41 images = 164 images (train, val and test each get a photo): a few seconds.
SMALL_SYNTHETIC_TID = {"n_sources": 4, "views_per_source": 1}


@pytest.fixture(scope="session")
def synthetic_tid(tmp_path_factory: pytest.TempPathFactory):
    """A small synthetic-tid generated once per session into a temporary data dir."""
    from nimabench.datasets.synthetic_tid import SyntheticTID

    dataset = SyntheticTID(tmp_path_factory.mktemp("synthetic-tid") / "data", **SMALL_SYNTHETIC_TID)
    dataset.ensure_generated()
    return dataset


@pytest.fixture(scope="session")
def synthetic_tid_args(synthetic_tid) -> list[str]:
    """The command-line options that open the session's small synthetic-tid."""
    options = [arg for key, value in SMALL_SYNTHETIC_TID.items() for arg in ("-o", f"{key}={value}")]
    return ["--data-dir", str(synthetic_tid.data_dir), *options]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The fixed results store the leaderboard, plot and publish tests share (see test_leaderboard_store)."""
    from test_leaderboard_store import build_fixed_store

    return build_fixed_store(tmp_path_factory.mktemp("fixed-store"))


@pytest.fixture(scope="module")
def board(store):
    """The fixed store's one leaderboard."""
    from nimabench.leaderboard import build_leaderboards

    (only,) = build_leaderboards(store)
    return only
