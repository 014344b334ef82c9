"""``nimabench leaderboard`` and ``nimabench plot``: rank the store's complete trials, print, write or publish
the tables, and draw the plots."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import pandas as pd
from rich.console import Console

from nimabench.dataset import TASKS
from nimabench.errors import NimabenchError
from nimabench.leaderboard import PIVOT_FIELDS, Leaderboard, build_leaderboards, pivot
from nimabench.plots import KINDS, make_plot, save_png
from nimabench.publish import (
    FORMATS,
    Document,
    Plot,
    Stamp,
    leaderboard_document,
    make_plots,
    pivot_document,
    publish,
    render,
    to_json,
)
from nimabench.stats import METHODS, BootstrapSettings
from nimabench.store import DATABASE_NAME, DEFAULT_RESULTS_DIR, Store

# Piped into a file or a log, rich would squeeze the wide table into 80 columns; give it room instead.
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 200)
error_console = Console(stderr=True)


def print_leaderboard(store: Store, task: str | None, dataset: str | None, fmt: str, output: Path | None, *,
                      settings: BootstrapSettings | None = None, pivot_by: str | None = None,
                      baseline: str | None = None, stamp: Stamp | None = None) -> None:
    """Print (or write to ``output``) every (task, dataset) leaderboard of the store in format ``fmt``."""
    boards = build_leaderboards(store, task, dataset, settings)
    if not boards:
        error_console.print("no complete trials to rank yet")
        return
    documents = [_document(board, pivot_by, baseline, stamp) for board in boards]
    if fmt == "html" and len(boards) > 1:
        raise NimabenchError(f"{len(boards)} leaderboards ({', '.join(b.slug for b in boards)}) make no single "
                             "HTML page: choose one with --task/--dataset, or use --publish DIR")
    parts = _render_all(documents, boards, store, fmt, plotted=pivot_by is None)
    if output:
        output.write_text("\n\n".join(str(part) for part in parts), encoding="utf-8")
        error_console.print(f"wrote {output}")
        return
    for part in parts:
        if isinstance(part, str):
            click.echo(part, nl=not part.endswith("\n"))
        else:
            console.print(part)


def _document(board: Leaderboard, pivot_by: str | None, baseline: str | None, stamp: Stamp | None) -> Document:
    if pivot_by is None:
        return leaderboard_document(board, stamp)
    try:
        return pivot_document(board, pivot(board, pivot_by, baseline), stamp)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--baseline") from None


def _render_all(documents: list[Document], boards: list[Leaderboard], store: Store, fmt: str,
                plotted: bool) -> list:
    if fmt == "csv" and len(documents) > 1:  # stable columns: one header for all leaderboards
        return [pd.concat([d.data for d in documents]).to_csv(index=False, float_format="%.6g",
                                                              lineterminator="\n")]
    if fmt == "json" and len(documents) > 1:
        return ["[\n" + ",\n".join(to_json(d).rstrip("\n") for d in documents) + "\n]\n"]
    plots: list[Plot] = make_plots(boards[0], store, boards[0].slug) if fmt == "html" and plotted else []
    return [render(document, fmt, plots) for document in documents]


def bootstrap_options(function):
    """The options that set how intervals and ties are computed (shared by leaderboard and plot)."""
    for option in reversed((
        click.option("--n-resamples", type=click.IntRange(min=100), default=2000, show_default=True,
                     help="Bootstrap resamples per interval and comparison."),
        click.option("--confidence", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.95,
                     show_default=True, help="Confidence level of the intervals."),
        click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05,
                     show_default=True, help="Significance level of the tie test (after Holm)."),
        click.option("--method", type=click.Choice(METHODS), default="BCa", show_default=True,
                     help="Interval method for SRCC and PLCC."),
        click.option("--bootstrap-seed", type=int, default=0, show_default=True,
                     help="Seed of the resampling (results are reproducible)."),
    )):
        function = option(function)
    return function


def selection_options(function):
    function = click.option("--results", type=click.Path(file_okay=False, path_type=Path),
                            default=DEFAULT_RESULTS_DIR, show_default=True)(function)
    function = click.option("--dataset")(function)
    return click.option("--task", type=click.Choice(TASKS))(function)


def open_store(results: Path) -> Store:
    if not (results / DATABASE_NAME).exists():
        raise NimabenchError(f"no results store at {results / DATABASE_NAME}; run `nimabench run` first")
    return Store(results)


def settings_from(n_resamples: int, confidence: float, alpha: float, method: str,
                  bootstrap_seed: int) -> BootstrapSettings:
    return BootstrapSettings(n_resamples=n_resamples, confidence_level=confidence, alpha=alpha, method=method,
                             seed=bootstrap_seed)


@click.command(name="leaderboard")
@selection_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to a file.")
@click.option("--publish", "publish_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write <task>-<dataset>.md/.csv/.html and plots into DIR and update DIR/README.md.")
@click.option("--pivot", "pivot_by", type=click.Choice(PIVOT_FIELDS),
              help="A backbone x FIELD table with paired differences against a baseline level.")
@click.option("--baseline", help="The pivot's reference level [default: the first in sorted order].")
@bootstrap_options
def leaderboard_command(task: str | None, dataset: str | None, results: Path, fmt: str, output: Path | None,
                        publish_dir: Path | None, pivot_by: str | None, baseline: str | None, **bootstrap) -> None:
    """Rank the complete trials in the store by test SRCC, with bootstrap intervals and tie groups.

    \b
    Examples:
      nimabench leaderboard --task technical
      nimabench leaderboard --format markdown --output leaderboard.md
      nimabench leaderboard --task technical --pivot loss --baseline cce
      nimabench leaderboard --publish results/
    """
    store = open_store(results)
    settings = settings_from(**bootstrap)
    if publish_dir is None:
        print_leaderboard(store, task, dataset, fmt, output, settings=settings, pivot_by=pivot_by,
                          baseline=baseline)
        return
    boards = build_leaderboards(store, task, dataset, settings)
    if not boards:
        error_console.print("no complete trials to rank yet")
    for board in boards:
        table = pivot(board, pivot_by, baseline) if pivot_by else None
        for path in publish(board, store, publish_dir, table=table):
            error_console.print(f"wrote {path}")


@click.command(name="plot")
@click.argument("kind", type=click.Choice(KINDS))
@selection_options
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="PNG file [default: <task>-<dataset>-KIND.png here].")
@bootstrap_options
def plot_command(kind: str, task: str | None, dataset: str | None, results: Path, output: Path | None,
                 **bootstrap) -> None:
    """Draw one plot of each leaderboard as PNG.

    \b
    KIND: intervals (SRCC with its interval per entry), cost (SRCC against parameters and
    train time, Pareto front marked), history (train/val loss per epoch per trial), predictions
    (predicted against true mean score of the leader).

    \b
    Examples:
      nimabench plot intervals --task technical
      nimabench plot cost --task technical --output cost.png
    """
    store = open_store(results)
    boards = build_leaderboards(store, task, dataset, settings_from(**bootstrap))
    if not boards:
        error_console.print("no complete trials to plot yet")
        return
    if output and len(boards) > 1:
        raise NimabenchError(f"{len(boards)} leaderboards ({', '.join(b.slug for b in boards)}): choose one with "
                             "--task/--dataset to write a single --output")
    for board in boards:
        path = save_png(make_plot(kind, board, store), output or Path(f"{board.slug}-{kind}.png"))
        error_console.print(f"wrote {path}")
