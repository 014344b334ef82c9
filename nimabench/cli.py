"""The ``nimabench`` command line (click). Plugins add commands through the ``register_commands`` hook."""

from __future__ import annotations

import json
import logging
import os
import sys
import tomllib
from pathlib import Path

import click
from click.core import ParameterSource
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from nimabench import __version__
from nimabench.catalog import LIST_KINDS, list_rows
from nimabench.dataset import TASKS
from nimabench.errors import NimabenchError
from nimabench.grid import Grid, choose_dataset, resolve_names
from nimabench.leaderboard_cli import leaderboard_command, plot_command, print_leaderboard
from nimabench.plugins import collect, load_plugins
from nimabench.runner import run_grid
from nimabench.store import DEFAULT_RESULTS_DIR, Store
from nimabench.trainer import RunOptions

console = Console()
error_console = Console(stderr=True)


class NimabenchGroup(click.Group):
    """Turns a NimabenchError into a one-line message and exit 1; ``--debug`` keeps the traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except NimabenchError as error:
            if ctx.find_root().params.get("debug"):
                raise
            error_console.print(f"[bold red]Error:[/] {error}", highlight=False, soft_wrap=True)
            ctx.exit(1)


@click.group(cls=NimabenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nimabench")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(debug: bool) -> None:
    """Benchmark NIMA-style image quality models across backbones, losses and fine-tuning schedules.

    \b
    Examples:
      nimabench list backbones
      nimabench datasets info synthetic-tid
      nimabench datasets export synthetic-tid --output labels.csv
    """
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, format="%(message)s",
                        handlers=[RichHandler(console=error_console, show_path=False, show_time=False)])


@cli.command(name="list")
@click.argument("kind", required=False, type=click.Choice(LIST_KINDS), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(kind: str | None, as_json: bool) -> None:
    """List what the installed plugins provide (without importing any framework).

    \b
    Examples:
      nimabench list
      nimabench list backbones --json
    """
    kinds = [kind] if kind else list(LIST_KINDS)
    tables = {k: list_rows(k) for k in kinds}
    if as_json:
        click.echo(json.dumps(tables if kind is None else tables[kind], indent=2))
        return
    for name, rows in tables.items():
        if rows:
            console.print(_table(name, rows))
        else:
            console.print(f"{name}: none registered (a framework plugin such as nimabench-timm adds them)\n")


def _table(title: str, rows: list[dict]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    columns = list(rows[0])
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    return table


@cli.group()
def datasets() -> None:
    """Inspect and export datasets."""


def dataset_options(function):
    """The options that pick a dataset's files, labels and split (shared by the dataset commands)."""
    function = click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                            help="Folder with the dataset's files (default $NIMABENCH_DATA/<name>).")(function)
    function = click.option("--label-strategy", default=None,
                            help="How labels become distributions (see `datasets info`).")(function)
    function = click.option("--seed", type=int, default=0, show_default=True, help="Split seed.")(function)
    function = click.option("--option", "-o", "options", multiple=True, metavar="KEY=VALUE",
                            help="A dataset-specific option, e.g. -o scale=1-10 for csv.")(function)
    return function


def open_dataset(name: str, data_dir: Path | None, label_strategy: str | None, seed: int,
                 options: tuple[str, ...]):
    dataset_class = collect("dataset").get(name)
    return dataset_class(data_dir, seed=seed, label_strategy=label_strategy, **parse_options(options))


def parse_options(options: tuple[str, ...]) -> dict[str, object]:
    parsed: dict[str, object] = {}
    for option in options:
        key, sep, value = option.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{option!r} is not KEY=VALUE", param_hint="--option")
        parsed[key.strip().replace("-", "_")] = _typed(value.strip())
    return parsed


def _typed(value: str) -> object:
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


@datasets.command(name="info")
@click.argument("name")
@dataset_options
def datasets_info(name: str, data_dir: Path | None, label_strategy: str | None, seed: int,
                  options: tuple[str, ...]) -> None:
    """Counts per split, score scale, label strategy and skipped files of dataset NAME.

    \b
    Example:
      nimabench datasets info synthetic-tid
    """
    dataset = open_dataset(name, data_dir, label_strategy, seed, options)
    manifest = dataset.manifest()
    table = Table(title=f"dataset {name}", title_justify="left", show_header=False)
    scale = manifest.score_values
    counts = manifest.counts()
    for key, value in (
        ("task", manifest.task),
        ("data dir", str(manifest.data_dir)),
        ("images", f"{len(manifest.frame)} ({', '.join(f'{k} {v}' for k, v in counts.items())})"),
        ("groups", f"{manifest.frame['group'].nunique()} (no group spans two splits)"),
        ("score scale", f"{scale[0]:g}..{scale[-1]:g} in {len(scale)} buckets"),
        ("label strategy", f"{manifest.label_strategy} (available: {', '.join(dataset.label_strategies)})"),
        ("split", manifest.split_policy),
        ("mean score", f"{manifest.frame['mean'].mean():.3f} ± {manifest.frame['mean'].std():.3f}"),
        ("skipped images", str(len(manifest.skipped))),
    ):
        table.add_row(key, value)
    console.print(table)
    for skipped in manifest.skipped[:20]:
        console.print(f"  skipped {skipped.path}: {skipped.reason}", highlight=False)
    if len(manifest.skipped) > 20:
        console.print(f"  ... and {len(manifest.skipped) - 20} more")


@datasets.command(name="export")
@click.argument("name")
@dataset_options
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="CSV file to write.")
def datasets_export(name: str, data_dir: Path | None, label_strategy: str | None, seed: int,
                    options: tuple[str, ...], output: Path) -> None:
    """Write dataset NAME's manifest as CSV: image_id, path, split, group, mean, std, p1..pN.

    \b
    Example:
      nimabench datasets export synthetic-tid --output synthetic-tid.csv
    """
    manifest = open_dataset(name, data_dir, label_strategy, seed, options).manifest()
    manifest.export(output)
    error_console.print(f"wrote {len(manifest.frame)} rows to {output}")


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _load_config(path: Path | None, known: set[str]) -> dict:
    """A grid.toml's keys are the run options' names (backbones = ["mobilenet"], epochs = 2, ...)."""
    if path is None:
        return {}
    try:
        with open(path, "rb") as handle:
            config = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise NimabenchError(f"{path}: {error}") from None
    config = {key.replace("-", "_"): (",".join(map(str, v)) if isinstance(v, list) else v)
              for key, v in config.items()}
    for key in config:
        if key not in known:
            raise NimabenchError(f"{path}: unknown key {key!r}; the keys are the options of `nimabench run`")
    return config


@cli.command(name="run")
@click.option("--backbones", help="Comma list, e.g. mobilenet,timm:efficientnet_lite0 (see `list backbones`).")
@click.option("--losses", default="emd", show_default=True, help="Comma list of losses.")
@click.option("--schedules", default="two-stage", show_default=True, help="Comma list of schedules.")
@click.option("--task", type=click.Choice(TASKS), help="aesthetic or technical.")
@click.option("--dataset", help="Dataset name; default: the task's real dataset if present, else synthetic.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), help="The dataset's folder.")
@click.option("--label-strategy", help="How the dataset's labels become distributions.")
@click.option("--option", "-o", "dataset_option", multiple=True, metavar="KEY=VALUE",
              help="A dataset-specific option, e.g. -o scale=1-10 for csv.")
@click.option("--seeds", default="0", show_default=True, help="Comma list of seeds.")
@click.option("--epochs", type=int, help="Set every stage's epochs (quick runs).")
@click.option("--batch-size", type=int, help="Batch size [default: 32].")
@click.option("--image-size", type=int, help="Network input size [default: the backbone's].")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), help="Where to train [default: auto].")
@click.option("--threads", type=int, help="CPU threads per trial.")
@click.option("--weights-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Local pretrained weights [default: $NIMABENCH_WEIGHTS].")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              help=f"Results dir [default: ./{DEFAULT_RESULTS_DIR}].")
@click.option("--allow-random-init", is_flag=True, default=None,
              help="Train from random weights when no pretrained weights are found.")
@click.option("--dry-run", is_flag=True, help="Print the expanded grid and stop.")
@click.option("--rerun", is_flag=True, help="Run trials again even if complete in the store.")
@click.option("--config", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A grid.toml whose keys are these options; the command line wins.")
@click.pass_context
def run_command(ctx: click.Context, config: Path | None, **given) -> None:
    """Train every combination of backbones x losses x schedules x seeds and print the leaderboard.

    \b
    Examples:
      nimabench run --backbones mobilenet,inception_resnet_v2 --task technical
      nimabench run --backbones timm:efficientnet_lite0 --losses emd,cce --epochs 2 --image-size 160
    """
    explicit = {k: v for k, v in given.items()
                if v is not None and ctx.get_parameter_source(k) is not ParameterSource.DEFAULT}
    defaults = {k: v for k, v in given.items() if v is not None}
    settings = {**defaults, **_load_config(config, known=set(given)), **explicit}
    if not settings.get("backbones"):
        raise click.UsageError("--backbones is required (or `backbones` in --config)")
    if not settings.get("task"):
        raise click.UsageError("--task is required (or `task` in --config)")
    data_dir = Path(settings["data_dir"]) if settings.get("data_dir") else None
    dataset = choose_dataset(settings["task"], settings.get("dataset"), data_dir)
    backbones, losses, schedules = resolve_names(
        _split(settings["backbones"]), _split(settings["losses"]), _split(settings["schedules"]))
    overrides = {k: settings[k] for k in ("epochs", "batch_size", "image_size") if settings.get(k) is not None}
    dataset_options = parse_options(tuple(settings.get("dataset_option") or ()))
    if settings.get("label_strategy"):
        dataset_options["label_strategy"] = settings["label_strategy"]
    grid = Grid(task=settings["task"], dataset=dataset, backbones=backbones, losses=losses,
                schedules=schedules, seeds=tuple(int(s) for s in _split(str(settings["seeds"]))),
                dataset_options=dataset_options, overrides=overrides)
    trials = grid.trials()
    _print_grid(trials)
    if settings.get("dry_run"):
        return
    weights_dir = settings.get("weights_dir") or os.environ.get("NIMABENCH_WEIGHTS")
    options = RunOptions(
        batch_size=settings.get("batch_size") or 32, image_size=settings.get("image_size"),
        device=settings.get("device") or "auto", threads=settings.get("threads"),
        weights_dir=Path(weights_dir) if weights_dir else None,
        allow_random_init=bool(settings.get("allow_random_init")),
    )
    store = Store(Path(settings.get("results") or DEFAULT_RESULTS_DIR))
    outcomes = run_grid(trials, store, options, data_dir=data_dir, rerun=bool(settings.get("rerun")),
                        console=error_console)
    print_leaderboard(store, grid.task, grid.dataset, "table", None)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        error_console.print(f"[red]{len(failed)} of {len(outcomes)} trials failed[/] (see above)")
        ctx.exit(1)


def _print_grid(trials: list) -> None:
    table = Table(title=f"grid: {len(trials)} trials", title_justify="left")
    for column in ("trial", "task", "dataset", "backbone", "loss", "schedule", "seed", "overrides"):
        table.add_column(column)
    for spec in trials:
        table.add_row(spec.trial_id, spec.task, spec.dataset, spec.backbone, spec.loss, spec.schedule,
                      str(spec.seed), json.dumps(spec.overrides, sort_keys=True))
    error_console.print(table)


cli.add_command(leaderboard_command)
cli.add_command(plot_command)


def _register_plugin_commands() -> None:
    load_plugins().hook.register_commands(cli=cli)


def main(argv: list[str] | None = None) -> None:
    try:
        _register_plugin_commands()
    except NimabenchError as error:
        error_console.print(f"[bold red]Error:[/] {error}", highlight=False)
        sys.exit(1)
    cli.main(args=argv, prog_name="nimabench")


if __name__ == "__main__":
    main()
