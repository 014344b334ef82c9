"""Leaderboard plots as PNG: SRCC with interval bars, SRCC against cost with the Pareto front, loss curves,
and predicted against true mean scores for the leader.

Figures are built with ``matplotlib.figure.Figure`` directly, never pyplot: no GUI backend and no global
figure state, so plotting is safe in a CLI, a test run or a server. Sizes are fixed in pixels (no tight
bounding box) so a published page's layout, and the tests, can rely on them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nimabench.leaderboard import Entry, Leaderboard
from nimabench.store import Store

if TYPE_CHECKING:  # matplotlib itself is imported on first plot: the CLI imports this module at start-up
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 100
KINDS = ("intervals", "cost", "history", "predictions")
TIED_COLOUR, OTHER_COLOUR, FRONT_COLOUR = "tab:blue", "tab:gray", "tab:red"


def figure_size(kind: str, n_entries: int = 0) -> tuple[int, int]:
    """(width, height) in pixels of a plot of ``kind``; the interval plot grows with the entries."""
    if kind not in KINDS:
        raise ValueError(f"unknown plot {kind!r}; choose from {', '.join(KINDS)}")
    if kind == "intervals":
        return 900, max(240, 90 + 32 * n_entries)
    if kind == "cost":
        return 1000, 420
    return 800, 500


def make_plot(kind: str, board: Leaderboard, store: Store | None = None) -> Figure:
    if kind == "history" and store is None:
        raise ValueError("the history plot reads the store's per-epoch history: pass the store")
    figure = _figure(*figure_size(kind, len(board.entries)))
    if kind == "intervals":
        _intervals(figure, board)
    elif kind == "cost":
        _cost(figure, board)
    elif kind == "history":
        _history(figure, board, store)
    else:
        _predictions(figure, board)
    return figure


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def save_png(figure: Figure, path: Path) -> Path:
    path.write_bytes(png_bytes(figure))
    return path


def _figure(width: int, height: int) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width / DPI, height / DPI), dpi=DPI, layout="constrained")


def _title(board: Leaderboard, what: str) -> str:
    return f"{board.task} / {board.dataset}: {what}"


def _intervals(figure: Figure, board: Leaderboard) -> None:
    axes = figure.add_subplot()
    rows = np.arange(len(board.entries))[::-1]  # best at the top
    for y, entry in zip(rows, board.entries, strict=True):
        srcc, low, high = (entry.row[k] for k in ("srcc", "srcc_ci_low", "srcc_ci_high"))
        colour = TIED_COLOUR if entry.row["tie_group"] == 1 else OTHER_COLOUR
        error = None if np.isnan(low) else [[max(srcc - low, 0)], [max(high - srcc, 0)]]
        axes.errorbar([srcc], [y], xerr=error, fmt="o", color=colour, capsize=4)
    axes.set_yticks(rows, [f"{entry.row['rank']}  {entry.label}" for entry in board.entries])
    axes.set_xlabel(f"test SRCC (mean over seeds) with {board.settings.confidence_level:.0%} interval\n"
                    "blue: tied with the leader")
    axes.set_title(_title(board, "SRCC"), loc="left")
    axes.grid(axis="x", alpha=0.3)


def _cost(figure: Figure, board: Leaderboard) -> None:
    for axes, column, label in zip(figure.subplots(1, 2), ("parameters_m", "train_seconds"),
                                   ("parameters (M)", "train time (s)"), strict=True):
        _cost_panel(axes, board.entries, column, label)
    figure.suptitle(_title(board, "SRCC against cost; red = Pareto front"), x=0.01, ha="left")


def _cost_panel(axes: Axes, entries: list[Entry], column: str, label: str) -> None:
    cost = np.array([entry.row[column] for entry in entries], dtype=np.float64)
    srcc = np.array([entry.row["srcc"] for entry in entries], dtype=np.float64)
    known = np.isfinite(cost) & np.isfinite(srcc)
    axes.scatter(cost[known], srcc[known], color=OTHER_COLOUR)
    front = pareto_front(cost, srcc)
    axes.step(cost[front], srcc[front], where="post", color=FRONT_COLOUR)
    axes.scatter(cost[front], srcc[front], color=FRONT_COLOUR, zorder=3)
    for index in front:
        axes.annotate(entries[index].row["backbone"], (cost[index], srcc[index]), fontsize=8,
                      xytext=(4, 4), textcoords="offset points")
    if known.any() and cost[known].min() > 0 and cost[known].max() / cost[known].min() > 20:
        axes.set_xscale("log")  # backbones span orders of magnitude in size and time
    axes.set_xlabel(label)
    axes.set_ylabel("test SRCC")
    axes.grid(alpha=0.3)


def pareto_front(cost: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Indices, by increasing cost, of the entries no other entry beats on both (lower cost, higher score)."""
    known = np.flatnonzero(np.isfinite(cost) & np.isfinite(score))
    front, best = [], -np.inf
    for index in known[np.lexsort((-score[known], cost[known]))]:
        if score[index] > best:
            front.append(index)
            best = score[index]
    return np.array(front, dtype=int)


def _history(figure: Figure, board: Leaderboard, store: Store) -> None:
    axes = figure.add_subplot()
    colours = iter(_colours(len(board.trials)))
    layouts = set()
    for trial_id, trial in board.trials.iterrows():
        history = store.history(trial_id)
        colour = next(colours)
        if history.empty:
            continue
        epochs = np.arange(1, len(history) + 1)  # epochs of all stages in a row, in the order stored
        label = f"{trial['backbone']} / {trial['loss']} / {trial['schedule']} seed {trial['seed']}"
        axes.plot(epochs, history["train_loss"], color=colour, label=f"{label} train")
        axes.plot(epochs, history["val_loss"], color=colour, linestyle="--", label=f"{label} val")
        layouts.add(tuple(history.groupby("stage", sort=False).size().items()))
    if not layouts:
        axes.text(0.5, 0.5, "no per-epoch history stored", ha="center", transform=axes.transAxes)
    elif len(board.trials) <= 6:
        axes.legend(fontsize=7)
    if len(layouts) == 1:
        _mark_stages(axes, layouts.pop())
    axes.set_xlabel("epoch (all stages in order)")
    axes.set_ylabel("loss (solid: train, dashed: val)")
    axes.set_title(_title(board, "loss per epoch"), loc="left")
    axes.grid(alpha=0.3)


def _mark_stages(axes: Axes, layout: tuple[tuple[str, int], ...]) -> None:
    """Every trial ran the same stages: a dotted line where each stage starts, and its name."""
    start = 1
    for stage, epochs in layout:
        axes.axvline(start - 0.5, color=OTHER_COLOUR, linestyle=":", linewidth=1)
        axes.annotate(stage, (start - 0.4, 1), xycoords=("data", "axes fraction"), va="top", fontsize=8)
        start += epochs


def _colours(n: int) -> list:
    from matplotlib import colormaps

    return [colormaps["tab10"](k % 10) for k in range(n)]


def _predictions(figure: Figure, board: Leaderboard) -> None:
    axes = figure.add_subplot()
    leader = board.entries[0]
    axes.set_title(_title(board, f"predicted vs true mean score, {leader.label}"), loc="left", fontsize=10)
    if leader.test_set is None:
        axes.text(0.5, 0.5, "the leader has no per-image predictions", ha="center", transform=axes.transAxes)
        return
    truth, predicted = leader.test_set.truth, leader.test_set.predictions.mean(axis=0)
    axes.scatter(truth, predicted, s=12, alpha=0.7, color=TIED_COLOUR)
    bounds = [min(truth.min(), predicted.min()), max(truth.max(), predicted.max())]
    axes.plot(bounds, bounds, color=OTHER_COLOUR, linestyle="--", label="predicted = true")
    seeds = f" (mean of {leader.row['seeds']} seeds)" if leader.row["seeds"] > 1 else ""
    axes.set_xlabel("true mean score")
    axes.set_ylabel(f"predicted mean score{seeds}")
    axes.legend(loc="upper left")
    axes.grid(alpha=0.3)
