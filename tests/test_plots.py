"""Leaderboard plots: every kind renders a PNG of the stated pixel size; the Pareto front; `nimabench plot`."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from nimabench.leaderboard_cli import plot_command
from nimabench.plots import KINDS, figure_size, make_plot, pareto_front, png_bytes


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


@pytest.mark.parametrize("kind", KINDS)
def test_each_plot_is_a_png_of_the_stated_size(board, store, kind):
    image = decoded(png_bytes(make_plot(kind, board, store)))
    assert image.format == "PNG"
    assert image.size == figure_size(kind, len(board.entries))
    pixels = np.asarray(image.convert("L"))
    assert pixels.std() > 5  # something was drawn


def test_the_interval_plot_grows_with_the_entries():
    assert figure_size("intervals", 30)[1] > figure_size("intervals", 4)[1]
    with pytest.raises(ValueError, match="unknown plot"):
        figure_size("violin")


def test_the_pareto_front_keeps_the_entries_nothing_beats():
    cost = np.array([1.0, 2.0, 3.0, 4.0, 2.5, np.nan])
    score = np.array([0.5, 0.7, 0.6, 0.9, 0.7, 0.99])
    assert list(pareto_front(cost, score)) == [0, 1, 3]  # 2 and 4 cost more than 1 for no more SRCC


def test_plots_without_history_say_so(board, store, monkeypatch):
    monkeypatch.setattr(store, "history", lambda trial_id=None: pd.DataFrame())
    image = decoded(png_bytes(make_plot("history", board, store)))
    assert image.size == figure_size("history")


def test_the_history_plot_needs_the_store(board):
    with pytest.raises(ValueError, match="pass the store"):
        make_plot("history", board)


def test_the_plot_command_writes_a_png(store, tmp_path):
    output = tmp_path / "cost.png"
    result = CliRunner().invoke(plot_command, ["cost", "--results", str(store.results_dir), "--output", str(output),
                                               "--n-resamples", "500"])
    assert result.exit_code == 0, result.output
    assert Image.open(output).size == figure_size("cost")
