"""Leaderboards from the fixed store: seeds aggregated, intervals, tie groups and rank ranges, pivots, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_leaderboard_store import N_TEST, build_fixed_store

from nimabench.leaderboard import COLUMNS, build_leaderboards, leaderboard_frame, pivot, protocol
from nimabench.leaderboard_cli import leaderboard_command, print_leaderboard
from nimabench.trial import TrialSpec


def row(board, backbone, loss):
    (match,) = [e.row for e in board.entries if e.row["backbone"] == backbone and e.row["loss"] == loss]
    return match


def test_one_row_per_recipe_with_seeds_aggregated(board, store):
    frame = board.frame
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 4
    emd = row(board, "mobilenet", "emd")
    assert emd["seeds"] == 2
    metrics = store.metrics("test").loc[emd["trial_ids"].split(",")]
    assert emd["srcc"] == pytest.approx(metrics["srcc"].mean())
    assert emd["srcc_seed_std"] == pytest.approx(metrics["srcc"].std(ddof=1))
    assert np.isnan(row(board, "mobilenet", "cce")["srcc_seed_std"])
    assert (frame["test_images"] == N_TEST).all()
    assert frame["accuracy"].isna().all()  # a technical task has no accuracy, but the column stays


def test_every_entry_has_intervals_around_its_estimate(board):
    frame = board.frame
    for metric in ("srcc", "plcc"):
        assert (frame[f"{metric}_ci_low"] < frame[metric]).all()
        assert (frame[metric] < frame[f"{metric}_ci_high"]).all()
    assert (frame["srcc_ci_high"] - frame["srcc_ci_low"]).between(0.02, 0.4).all()


def test_entries_not_worse_than_the_leader_share_its_rank_range(board):
    frame = board.frame
    assert list(frame["rank"]) == ["1-2", "1-2", "3-4", "3-4"]
    assert list(frame["tie_group"]) == [1, 1, 2, 2]
    assert list(frame["tied_with_leader"]) == [True, True, False, False]
    assert frame["srcc"].iloc[0] == frame["srcc"].max()
    assert frame["srcc_diff_vs_leader"].iloc[0] == 0 and np.isnan(frame["p_vs_leader_holm"].iloc[0])
    worse = frame.iloc[2:]
    assert (worse["p_vs_leader_holm"] < 0.05).all() and (worse["srcc_diff_ci_high"] < 0).all()
    assert frame["p_vs_leader_holm"].iloc[1] >= 0.05
    assert frame["srcc_diff_ci_low"].iloc[1] < 0 < frame["srcc_diff_ci_high"].iloc[1]


def test_holm_is_applied_over_the_comparisons_with_the_leader(board):
    from nimabench.stats import compare_srcc, holm

    leader, others = board.entries[0], board.entries[1:]
    raw = [compare_srcc(leader.test_set.truth, e.test_set.predictions, leader.test_set.predictions,
                        board.settings).p_value for e in others]
    assert [e.row["p_vs_leader_holm"] for e in others] == pytest.approx(list(holm(raw)))


def test_the_protocol_comes_from_the_stored_details(board):
    facts = protocol(board)
    assert facts["split"].startswith("by reference image")
    assert facts["test images"] == str(N_TEST)
    assert facts["label strategy"] == "votes"
    assert facts["crop policy"] == ("square resize to 256 px (aspect not kept), then a random 224 px crop and a "
                                    "horizontal flip for training; the centre 224 px crop for validation and test")
    assert facts["batch size"] == "32"
    assert "without logistic correction" in facts["PLCC"]
    assert facts["EMD"].startswith("r = 1")
    assert "BCa" in facts["intervals"] and "2000" in facts["intervals"]


def test_bootstrap_settings_reach_the_intervals(store):
    from nimabench.stats import BootstrapSettings

    default = leaderboard_frame(store)
    narrow = leaderboard_frame(store, settings=BootstrapSettings(confidence_level=0.5))
    assert ((narrow["srcc_ci_high"] - narrow["srcc_ci_low"]) < (default["srcc_ci_high"] - default["srcc_ci_low"])).all()
    assert leaderboard_frame(store, task="aesthetic").empty


def test_pivot_by_loss_gives_paired_differences_per_backbone(board):
    table = pivot(board, "loss")
    assert table.levels == ["cce", "emd"] and table.baseline == "cce"
    frame = table.frame.set_index("backbone")
    assert list(frame.index) == ["efficientnet_lite0", "mobilenet"]
    mobilenet = frame.loc["mobilenet"]
    assert mobilenet["srcc_emd"] == pytest.approx(row(board, "mobilenet", "emd")["srcc"])
    assert mobilenet["srcc_emd_minus_cce"] == pytest.approx(mobilenet["srcc_emd"] - mobilenet["srcc_cce"])
    assert mobilenet["srcc_emd_minus_cce_ci_low"] < mobilenet["srcc_emd_minus_cce"]
    assert 0 <= mobilenet["p_emd_minus_cce_holm"] <= 1
    reversed_table = pivot(board, "loss", baseline="emd").frame.set_index("backbone")
    assert reversed_table.loc["mobilenet", "srcc_cce_minus_emd"] == pytest.approx(-mobilenet["srcc_emd_minus_cce"])
    with pytest.raises(ValueError, match="baseline 'mse'"):
        pivot(board, "loss", baseline="mse")
    with pytest.raises(ValueError, match="cannot pivot"):
        pivot(board, "backbone")


def add_trial(store, backbone, loss, images, noise, seed=0, dataset_options=None, write_predictions=True):
    """One more complete trial on ``images`` (a subset of the fixed store's test images)."""
    from test_leaderboard_store import DETAILS, history, predictions_csv

    spec = TrialSpec(task="technical", dataset="synthetic-tid", backbone=backbone, loss=loss,
                     schedule="two-stage", seed=seed, dataset_options=dataset_options or {})
    store.mark_running(spec, "torch")
    frame, metrics = predictions_csv(images, noise, np.random.default_rng(seed + 99))
    path = store.artefact_dir(spec.trial_id) / "test_predictions.csv"
    artefacts = {}
    if write_predictions:
        frame.to_csv(path, index=False)
        artefacts["test_predictions"] = str(path.relative_to(store.results_dir))
    summary = {"train_seconds": 100.0, "train_images_per_second": 10.0, "parameters": 1_000_000,
               "pretrained": False, "features_cached": False, "device": "cpu", "versions": {},
               "details": DETAILS}
    store.record_success(spec.trial_id, summary=summary, metrics={"test": metrics}, history=history(noise),
                         artefacts=artefacts)


@pytest.fixture
def mixed_store(tmp_path):
    """The fixed store plus entries that cannot be compared with the leader."""
    from test_leaderboard_store import truth

    store = build_fixed_store(tmp_path / "mixed")
    images = truth(np.random.default_rng(20240601))
    add_trial(store, "resnet18", "emd", images.iloc[:80], 1.2)  # on fewer images
    add_trial(store, "resnet34", "emd", images, 1.0, write_predictions=False)
    add_trial(store, "resnet50", "emd", images, 1.0, seed=0)
    add_trial(store, "resnet50", "emd", images.iloc[10:], 1.0, seed=1)
    return store


def test_entries_on_other_test_images_are_not_compared(mixed_store):
    (board,) = build_leaderboards(mixed_store)
    by_backbone = {e.row["backbone"]: e.row for e in board.entries}
    other = by_backbone["resnet18"]
    assert other["test_images"] == 80
    assert other["tied_with_leader"] is None and np.isnan(other["srcc_diff_vs_leader"])
    assert "not compared" in other["note"]
    assert not np.isnan(other["srcc_ci_low"])  # its own interval is still fine
    assert other["rank_low"] == other["rank_high"]  # nothing to be tied with
    missing = by_backbone["resnet34"]
    assert "no per-image predictions" in missing["note"] and np.isnan(missing["srcc_ci_low"])
    assert "different images" in by_backbone["resnet50"]["note"]
    ranks = sorted((e.row["rank_low"], e.row["rank_high"]) for e in board.entries)
    covered = sorted({r for low, high in ranks for r in range(low, high + 1)})
    assert covered == list(range(1, len(board.entries) + 1))  # the ranges tile the table


@pytest.fixture
def wide_console(monkeypatch):
    from nimabench import leaderboard_cli

    monkeypatch.setattr(leaderboard_cli.console, "width", 250)


def test_print_leaderboard_keeps_the_runners_signature(store, capsys, tmp_path, wide_console):
    print_leaderboard(store, "technical", "synthetic-tid", "table", None)
    shown = capsys.readouterr().out
    assert "mobilenet" in shown and "1-2" in shown and "±" in shown
    output = tmp_path / "board.csv"
    print_leaderboard(store, None, None, "csv", output)
    assert list(pd.read_csv(output).columns) == list(COLUMNS)


def test_the_leaderboard_command(store, wide_console):
    runner = CliRunner()
    results = ["--results", str(store.results_dir), "--n-resamples", "500"]
    table = runner.invoke(leaderboard_command, results)
    assert table.exit_code == 0, table.output
    assert "efficientnet_lite0" in table.output
    as_json = runner.invoke(leaderboard_command, [*results, "--format", "json"])
    document = json.loads(as_json.output)
    assert document["facts"]["test images"] == str(N_TEST) and len(document["rows"]) == 4
    pivoted = runner.invoke(leaderboard_command, [*results, "--pivot", "loss", "--format", "markdown"])
    assert pivoted.exit_code == 0 and "emd − cce" in pivoted.output
    bad = runner.invoke(leaderboard_command, [*results, "--pivot", "loss", "--baseline", "mse"])
    assert bad.exit_code == 2 and "baseline 'mse'" in bad.output
    missing = runner.invoke(leaderboard_command, ["--results", str(store.results_dir / "nowhere")])
    assert missing.exit_code == 1 and "no results store" in str(missing.exception)
