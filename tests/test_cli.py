"""The command line: version, list, exit codes and one-line errors."""

import json
import os
import subprocess
import sys

from click.testing import CliRunner

from nimabench import __version__
from nimabench.cli import cli


def run_cli(*args):
    return CliRunner().invoke(cli, list(args))


def test_version():
    result = run_cli("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_list_losses_as_json():
    result = run_cli("list", "losses", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert {row["name"] for row in rows} >= {"emd", "emd1", "cce", "mse-mean", "cbce"}
    assert {"name", "framework", "plugin", "description", "availability"} <= set(rows[0])


def test_list_everything_as_a_table():
    result = run_cli("list")
    assert result.exit_code == 0
    for title in ("backbones", "losses", "schedules", "datasets", "trainers", "plugins"):
        assert title in result.output
    assert "two-stage" in result.output and "tid2013" in result.output


def test_a_usage_error_exits_2():
    assert run_cli("list", "gizmos").exit_code == 2
    assert run_cli("datasets", "info", "tid2013", "-o", "novalue").exit_code == 2


def _nimabench(*args, **env):
    environment = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "nimabench.cli", *args], capture_output=True, text=True,
                          env=environment)


def test_an_error_is_one_line_without_traceback_and_exits_1(tmp_path):
    result = _nimabench("datasets", "info", "tid2013", "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "mos_with_names.txt" in result.stderr and str(tmp_path) in result.stderr


def test_an_unknown_dataset_suggests_a_name():
    result = _nimabench("datasets", "info", "tid2031")
    assert result.returncode == 1 and "did you mean 'tid2013'" in result.stderr


def test_debug_shows_the_traceback(tmp_path):
    result = _nimabench("--debug", "datasets", "info", "tid2013", "--data-dir", str(tmp_path))
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_datasets_export_writes_the_manifest(synthetic_tid_args, tmp_path):
    output = tmp_path / "x.csv"
    result = run_cli("datasets", "export", "synthetic-tid", *synthetic_tid_args, "--output", str(output))
    assert result.exit_code == 0, result.output
    import pandas as pd

    frame = pd.read_csv(output)
    assert list(frame.columns[:6]) == ["image_id", "path", "split", "group", "mean", "std"]
    assert [f"p{k}" for k in range(1, 11)] == [c for c in frame.columns if c.startswith("p") and c[1:].isdigit()]
    assert set(frame["split"]) == {"train", "val", "test"}
    assert abs(frame[[f"p{k}" for k in range(1, 11)]].sum(axis=1) - 1).max() < 1e-5


def test_datasets_info_shows_counts_scale_and_strategy(synthetic_tid_args):
    result = CliRunner().invoke(cli, ["datasets", "info", "synthetic-tid", *synthetic_tid_args],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in ("technical", "train", "test", "1..10 in 10 buckets", "votes", "skipped images"):
        assert text in result.output
