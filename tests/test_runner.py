"""`nimabench run` end to end with a NumPy trainer: grid, store, failures, skip/rerun, kill and resume."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nimabench.store import DATABASE_NAME, Store

ROOT = Path(__file__).parents[1]


@pytest.fixture
def photo_dir(tmp_path):
    """A `csv` dataset of 60 small images whose votes follow their brightness (so there is something to learn)."""
    data = tmp_path / "photos"
    (data / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    lines = ["image,c1,c2,c3,c4,c5"]
    for i in range(60):
        level = i % 5
        pixels = np.clip(rng.normal(40 + 40 * level, 20, size=(16, 16, 3)), 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(data / "images" / f"photo{i:02d}.png")
        votes = rng.multinomial(20, np.roll([0.6, 0.25, 0.1, 0.04, 0.01], level))
        lines.append(f"images/photo{i:02d}.png," + ",".join(map(str, votes)))
    (data / "labels.csv").write_text("\n".join(lines) + "\n")
    return data


def nimabench(*args, env=None, **kwargs):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "NIMABENCH_LOAD_PLUGINS": "",
                   "NIMABENCH_PLUGIN_MODULES": "tests.fake_plugins.numpy_trainer", "COLUMNS": "250", **(env or {})}
    return subprocess.run([sys.executable, "-m", "nimabench", *args], capture_output=True, text=True,
                          env=environment, **kwargs)


def grid_args(photo_dir, results, backbones="numpy:features", *extra):
    return ["run", "--backbones", backbones, "--task", "aesthetic", "--dataset", "csv",
            "--data-dir", str(photo_dir), "--results", str(results), "--schedules", "head-only",
            "--epochs", "2", *extra]


def test_a_grid_trains_stores_and_ranks(photo_dir, tmp_path):
    results = tmp_path / "results"
    run = nimabench(*grid_args(photo_dir, results, "numpy:features", "--losses", "emd,cce", "--seeds", "0,1"))
    assert run.returncode == 0, run.stderr
    assert "grid: 4 trials" in run.stderr
    store = Store(results)
    trials = store.trials()
    assert list(trials["status"]) == ["complete"] * 4
    assert set(json.loads(trials["versions"].iloc[0])) >= {"nimabench", "numpy"}
    metrics = store.metrics("test")
    assert {"srcc", "plcc", "krcc", "emd1", "emd2", "rmse"} <= set(metrics.columns)
    assert (metrics["srcc"] > 0.5).all()  # brightness predicts these votes
    assert len(store.history(trials["id"].iloc[0])) == 2
    predictions = store.artefact(trials["id"].iloc[0], "test_predictions")
    header = predictions.read_text().splitlines()[0].split(",")
    assert header[:6] == ["image_id", "group", "true_mean", "true_std", "pred_mean", "pred_std"]
    assert "pred_p5" in header and "true_p5" in header
    # the leaderboard printed at the end: one row per recipe (2 losses), seeds aggregated
    assert "numpy:features" in run.stdout and "±" in run.stdout


def test_complete_trials_are_skipped_unless_rerun(photo_dir, tmp_path):
    results = tmp_path / "results"
    assert nimabench(*grid_args(photo_dir, results)).returncode == 0
    first = Store(results).trials()["finished_at"].iloc[0]
    again = nimabench(*grid_args(photo_dir, results))
    assert "complete in the store" in again.stderr
    assert Store(results).trials()["finished_at"].iloc[0] == first
    assert nimabench(*grid_args(photo_dir, results, "numpy:features", "--rerun")).returncode == 0
    assert Store(results).trials()["finished_at"].iloc[0] > first


def test_a_failing_trial_never_takes_the_grid_down(photo_dir, tmp_path):
    results = tmp_path / "results"
    run = nimabench(*grid_args(photo_dir, results, "numpy:raises,numpy:nan,numpy:crash,numpy:features"))
    assert run.returncode == 1
    trials = Store(results).trials().set_index("backbone")
    assert trials.loc["numpy:features", "status"] == "complete"
    assert "this backbone always fails" in trials.loc["numpy:raises", "error"]
    assert "FloatingPointError" in trials.loc["numpy:nan", "error"]
    assert "killed by SIGKILL" in trials.loc["numpy:crash", "error"]
    assert "3 of 4 trials failed" in run.stderr
    assert "numpy:features" in run.stdout  # the leaderboard of what succeeded


def test_dry_run_prints_the_grid_and_trains_nothing(photo_dir, tmp_path):
    results = tmp_path / "results"
    run = nimabench(*grid_args(photo_dir, results, "numpy:features", "--seeds", "0,1,2", "--dry-run"))
    assert run.returncode == 0 and "grid: 3 trials" in run.stderr
    assert not (results / DATABASE_NAME).exists()


def test_usage_errors_name_the_option(photo_dir, tmp_path):
    run = nimabench("run", "--task", "aesthetic")
    assert run.returncode == 2 and "--backbones" in run.stderr
    run = nimabench(*grid_args(photo_dir, tmp_path / "r", "numpy:featurez"))
    assert run.returncode == 1 and "did you mean 'numpy:features'" in run.stderr
    config = tmp_path / "grid.toml"
    config.write_text('backbones = ["numpy:features"]\nepochz = 2\n')
    run = nimabench("run", "--config", str(config), "--task", "aesthetic")
    assert run.returncode == 1 and "epochz" in run.stderr


def test_a_config_file_gives_the_grid(photo_dir, tmp_path):
    config = tmp_path / "grid.toml"
    config.write_text(f'backbones = ["numpy:features"]\nlosses = ["emd", "emd1"]\ntask = "aesthetic"\n'
                      f'dataset = "csv"\ndata-dir = "{photo_dir}"\nepochs = 1\nschedules = ["head-only"]\n')
    run = nimabench("run", "--config", str(config), "--results", str(tmp_path / "r"), "--dry-run")
    assert run.returncode == 0 and "grid: 2 trials" in run.stderr


def test_a_killed_grid_resumes_without_redoing_finished_trials(photo_dir, tmp_path):
    results = tmp_path / "results"
    args = grid_args(photo_dir, results, "numpy:features", "--seeds", "0,1,2,3")
    slow = {"NUMPY_TRAINER_SECONDS": "0.7"}
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "NIMABENCH_LOAD_PLUGINS": "",
                   "NIMABENCH_PLUGIN_MODULES": "tests.fake_plugins.numpy_trainer", **slow}
    process = subprocess.Popen([sys.executable, "-m", "nimabench", *args], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and _complete(results) < 2:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = Store(results).trials().set_index("id")
    done_before = finished[finished["status"] == "complete"]
    assert 2 <= len(done_before) < 4, "the kill should land in the middle of the grid"
    time.sleep(1)  # the killed runner's child dies with it (PR_SET_PDEATHSIG); give it a moment
    rerun = nimabench(*args, env=slow)
    assert rerun.returncode == 0, rerun.stderr
    after = Store(results).trials().set_index("id")
    assert (after["status"] == "complete").all() and len(after) == 4
    for trial_id, row in done_before.iterrows():
        assert after.loc[trial_id, "finished_at"] == row["finished_at"], "a finished trial was redone"
    assert rerun.stderr.count("complete in the store") == len(done_before)


def _complete(results: Path) -> int:
    database = results / DATABASE_NAME
    if not database.exists():
        return 0
    with sqlite3.connect(database) as connection:
        try:
            return connection.execute("SELECT COUNT(*) FROM trials WHERE status = 'complete'").fetchone()[0]
        except sqlite3.OperationalError:
            return 0
