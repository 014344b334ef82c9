"""Leaderboards as documents, and publishing them.

A :class:`Document` is what every format shows: a title, a header block of protocol facts, the human-readable
table, the machine columns and a legend. It renders as a rich table, GitHub markdown, CSV (the stable
machine columns), LaTeX (booktabs), a self-contained HTML page (plots embedded as base64 PNG) or JSON.
:func:`publish` writes a leaderboard's markdown, CSV, HTML and plots into a folder and keeps the folder's
README.md index of published leaderboards up to date.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from rich import box
from rich.table import Table

from nimabench import __version__
from nimabench.leaderboard import Leaderboard, Pivot, protocol
from nimabench.plots import KINDS, make_plot, png_bytes
from nimabench.store import Store

FORMATS = ("table", "markdown", "csv", "latex", "html", "json")
TEXT_COLUMNS = ("backbone", "framework", "loss", "schedule", "settings")
PLOT_CAPTIONS = {
    "intervals": "Test SRCC of every entry with its bootstrap interval",
    "cost": "Test SRCC against parameters and train time, Pareto front marked",
    "history": "Train and validation loss per epoch of every trial",
    "predictions": "Predicted against true mean score on the test images, leader",
}
INDEX_START, INDEX_END = "<!-- nimabench-index:start -->", "<!-- nimabench-index:end -->"


@dataclass(frozen=True)
class Stamp:
    """Who made a document and when; injectable so published files can be compared byte for byte."""

    version: str = __version__
    date: str = field(default_factory=lambda: datetime.date.today().isoformat())


@dataclass
class Document:
    title: str
    facts: dict[str, str]  # the header block, in order
    shown: pd.DataFrame  # human-readable cells
    data: pd.DataFrame  # machine columns, for CSV and JSON
    legend: list[str]  # how to read the table, then ``notes``
    highlight: list[bool]  # rows to emphasise (tied with the leader)
    notes: list[str] = field(default_factory=list)  # what is missing for which entry, and why


@dataclass(frozen=True)
class Plot:
    kind: str
    file_name: str
    png: bytes

    @property
    def caption(self) -> str:
        return PLOT_CAPTIONS[self.kind]


# -- documents ---------------------------------------------------------------------------------------------------

def leaderboard_document(board: Leaderboard, stamp: Stamp | None = None) -> Document:
    stamp = stamp or Stamp()
    frame = board.frame
    legend = [
        "SRCC, PLCC: mean over seeds [confidence interval], ± the std over seeds; KRCC, EMD, RMSE: mean ± std.",
        "rank: a range where entries are statistically tied; tied: not significantly worse than the leader "
        "(Holm-adjusted p); n/c: not comparable with the leader.",
    ]
    notes = [f"{entry.label}: {entry.row['note']}" for entry in board.entries if entry.row["note"]]
    return Document(
        title=f"{board.task} / {board.dataset}: ranked by test SRCC", facts=_facts(protocol(board), stamp),
        shown=display_frame(frame), data=frame, legend=legend + notes,
        highlight=[entry.row["tie_group"] == 1 for entry in board.entries], notes=notes)


def pivot_document(board: Leaderboard, table: Pivot, stamp: Stamp | None = None) -> Document:
    stamp = stamp or Stamp()
    frame = table.frame
    keys = [key for key in ("backbone", "framework", "loss", "schedule") if key != table.by]
    shown = frame[keys + (["settings"] if frame["settings"].nunique() > 1 else [])].copy()
    for level in table.levels:
        shown[f"SRCC {level}"] = [_interval_text(*values) for values in zip(
            frame[f"srcc_{level}"], frame[f"srcc_{level}_ci_low"], frame[f"srcc_{level}_ci_high"], strict=True)]
    for level in table.levels:
        if level != table.baseline:
            name = f"{level}_minus_{table.baseline}"
            shown[f"{level} − {table.baseline}"] = [_difference_text(d, lo, hi, p, note) for d, lo, hi, p, note in zip(
                frame[f"srcc_{name}"], frame[f"srcc_{name}_ci_low"], frame[f"srcc_{name}_ci_high"],
                frame[f"p_{name}_holm"], frame[f"note_{name}"], strict=True)]
    facts = _facts(protocol(board), stamp)
    facts["pivot"] = f"{table.by}: {', '.join(table.levels)}; differences against {table.baseline}"
    legend = [f"Cells: test SRCC [confidence interval]. Differences: paired bootstrap of SRCC(level) − "
              f"SRCC({table.baseline}) on the same test images, Holm-adjusted p over the table."]
    return Document(title=f"{board.task} / {board.dataset}: SRCC by {table.by}", facts=facts, shown=shown,
                    data=frame, legend=legend, highlight=[False] * len(frame))


def _facts(facts: dict[str, str], stamp: Stamp) -> dict[str, str]:
    return {**facts, "nimabench": stamp.version, "date": stamp.date}


def display_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Human-readable cells of a leaderboard frame; accuracy only where some entry has one (aesthetic)."""
    shown = pd.DataFrame({
        "rank": frame["rank"], "backbone": frame["backbone"], "framework": frame["framework"],
        "pretrained": frame["pretrained"].map({True: "yes", False: "no"}), "loss": frame["loss"],
        "schedule": frame["schedule"],
    })
    if frame["settings"].nunique() > 1:  # shared settings are in the header ("recipe settings")
        shown["settings"] = frame["settings"]
    shown["seeds"] = frame["seeds"]
    for metric in ("srcc", "plcc"):
        shown[metric.upper()] = [_interval_text(mean, low, high, std) for mean, low, high, std in zip(
            frame[metric], frame[f"{metric}_ci_low"], frame[f"{metric}_ci_high"], frame[f"{metric}_seed_std"],
            strict=True)]
    for metric, title in (("krcc", "KRCC"), ("emd1", "EMD (r=1)"), ("rmse", "RMSE"), ("accuracy", "accuracy")):
        if frame[metric].notna().any():
            shown[title] = [_interval_text(mean, np.nan, np.nan, std)
                            for mean, std in zip(frame[metric], frame[f"{metric}_seed_std"], strict=True)]
    rows = frame.to_dict(orient="records")  # the first is the leader
    shown["Δ SRCC vs leader"] = [_leader_difference(row, index == 0) for index, row in enumerate(rows)]
    shown["tied"] = [_tied_text(row, index == 0) for index, row in enumerate(rows)]
    shown["params (M)"] = frame["parameters_m"].map(lambda v: f"{v:.2f}")
    shown["train time (s)"] = frame["train_seconds"].map(lambda v: f"{v:.0f}")
    shown["train img/s"] = frame["train_images_per_second"].map(lambda v: f"{v:.1f}")
    return shown


def _interval_text(mean: float, low: float, high: float, std: float = np.nan) -> str:
    if pd.isna(mean):
        return "n/a"
    text = f"{mean:.3f}" if pd.isna(std) else f"{mean:.3f} ± {std:.3f}"
    return text if pd.isna(low) else f"{text} [{low:.3f}, {high:.3f}]"


def _leader_difference(row: dict, leader: bool) -> str:
    if leader:
        return "leader"
    if pd.isna(row["srcc_diff_vs_leader"]):
        return "n/c"
    if pd.isna(row["srcc_diff_ci_low"]):
        return f"{row['srcc_diff_vs_leader']:+.3f}"
    return f"{row['srcc_diff_vs_leader']:+.3f} [{row['srcc_diff_ci_low']:+.3f}, {row['srcc_diff_ci_high']:+.3f}]"


def _tied_text(row: dict, leader: bool) -> str:
    if leader:
        return "leader"
    if pd.isna(row["srcc_diff_vs_leader"]):
        return "n/c"
    if pd.isna(row["p_vs_leader_holm"]):
        return "yes (too few images to test)"
    return f"{'yes' if row['tied_with_leader'] else 'no'} (p {_p_text(row['p_vs_leader_holm'])})"


def _difference_text(difference: float, low: float, high: float, p: float, note: str) -> str:
    if pd.isna(difference):
        return note or "n/a"
    return f"{difference:+.3f} [{low:+.3f}, {high:+.3f}] p {_p_text(p)}"


def _p_text(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


# -- formats -----------------------------------------------------------------------------------------------------

def render(document: Document, fmt: str, plots: Sequence[Plot] = ()) -> str | Table:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    if fmt == "table":
        return to_rich(document)
    if fmt == "markdown":
        return to_markdown(document, plots)
    if fmt == "html":
        return to_html(document, plots)
    return {"csv": to_csv, "latex": to_latex, "json": to_json}[fmt](document)


def to_rich(document: Document) -> Table:
    facts = [f"{key}: {document.facts[key]}" for key in ("test images", "intervals", "ties") if key in document.facts]
    caption = "\n".join(["; ".join(facts), *document.notes])
    table = Table(title=document.title, title_justify="left", caption=caption, caption_justify="left",
                  box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    for column in document.shown.columns:
        # Names keep their full width and numbers fold instead: a cut backbone name hides which model it is.
        text = column in TEXT_COLUMNS
        table.add_column(column, justify="left" if text else "right", overflow="fold", no_wrap=text)
    for (_, row), tied in zip(document.shown.iterrows(), document.highlight, strict=True):
        # An interval or a p-value on a line of its own keeps the columns narrow enough for a terminal.
        cells = [str(cell).replace(" [", "\n[").replace(" (p", "\n(p").replace("] p", "]\np") for cell in row]
        table.add_row(*cells, style="bold" if tied else None)
    return table


def to_markdown(document: Document, plots: Sequence[Plot] = ()) -> str:
    facts = "\n".join(f"- **{key}**: {value}" for key, value in document.facts.items())
    legend = "\n".join(f"- {line}" for line in document.legend)
    images = "".join(f"\n![{plot.caption}]({plot.file_name})\n" for plot in plots)
    table = document.shown.to_markdown(index=False, disable_numparse=True, colalign=[
        "left" if column in TEXT_COLUMNS else "right" for column in document.shown.columns])
    return f"## {document.title}\n\n{facts}\n\n{table}\n\n{legend}\n{images}"


def to_csv(document: Document) -> str:
    return document.data.to_csv(index=False, float_format="%.6g", lineterminator="\n")


def to_json(document: Document) -> str:
    rows = json.loads(document.data.to_json(orient="records", double_precision=6))
    return json.dumps({"title": document.title, "facts": document.facts, "rows": rows}, indent=2,
                      ensure_ascii=False) + "\n"


def to_latex(document: Document) -> str:
    shown = document.shown.copy()
    if "rank" in shown:
        shown["rank"] = shown["rank"].str.replace("-", "--", regex=False)  # an en dash for ranges
    body = shown.to_latex(index=False, escape=True, column_format="".join(
        "l" if column in TEXT_COLUMNS else "r" for column in shown.columns),
        caption=latex_escape(document.title), label=f"tab:{re.sub(r'[^a-z0-9]+', '-', document.title.lower())}")
    for text, command in (("±", r"$\pm$"), ("Δ", r"$\Delta$"), ("−", r"$-$")):
        body = body.replace(text, command)
    facts = "".join(f"% {key}: {value}\n" for key, value in document.facts.items())
    legend = "".join(f"% {line}\n" for line in document.legend)
    return f"% requires \\usepackage{{booktabs}}\n{facts}{legend}{body}"


def latex_escape(text: str) -> str:
    specials = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
    return "".join(specials.get(character, character) for character in text)


def to_html(document: Document, plots: Sequence[Plot] = ()) -> str:
    import jinja2  # only pages need it; the CLI imports this module at start-up

    environment = jinja2.Environment(autoescape=True, keep_trailing_newline=True,
                                     undefined=jinja2.StrictUndefined)
    template = environment.from_string(
        resources.files("nimabench").joinpath("templates/leaderboard.html.j2").read_text(encoding="utf-8"))
    columns = list(document.shown.columns)
    rows = [{"highlight": tied, "cells": list(zip(columns, map(str, row), strict=True))}
            for (_, row), tied in zip(document.shown.iterrows(), document.highlight, strict=True)]
    images = [{"caption": plot.caption, "base64": base64.b64encode(plot.png).decode("ascii"),
               **dict(zip(("width", "height"), Image.open(io.BytesIO(plot.png)).size, strict=True))}
              for plot in plots]
    return template.render(title=document.title, version=document.facts.get("nimabench", __version__),
                           facts=document.facts, columns=columns, text_columns=TEXT_COLUMNS, rows=rows,
                           legend=document.legend, images=images)


# -- publishing --------------------------------------------------------------------------------------------------

def make_plots(board: Leaderboard, store: Store, prefix: str) -> list[Plot]:
    return [Plot(kind, f"{prefix}-{kind}.png", png_bytes(make_plot(kind, board, store))) for kind in KINDS]


def publish(board: Leaderboard, store: Store, directory: Path, stamp: Stamp | None = None,
            table: Pivot | None = None) -> list[Path]:
    """Write ``<task>-<dataset>.md/.csv/.html`` (``-by-<field>`` for a pivot) and the plots into
    ``directory``, and update its README.md index. Returns the paths written."""
    stamp = stamp or Stamp()
    directory.mkdir(parents=True, exist_ok=True)
    name = board.slug if table is None else f"{board.slug}-by-{table.by}"
    document = leaderboard_document(board, stamp) if table is None else pivot_document(board, table, stamp)
    plots = make_plots(board, store, name) if table is None else []
    written = [_write(directory / plot.file_name, plot.png) for plot in plots]
    for suffix, fmt in ((".md", "markdown"), (".csv", "csv"), (".html", "html")):
        written.append(_write(directory / f"{name}{suffix}", render(document, fmt, plots).encode("utf-8")))
    written.append(update_index(directory, name, _index_line(document, board, name, stamp)))
    return written


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _index_line(document: Document, board: Leaderboard, name: str, stamp: Stamp) -> str:
    leader = board.entries[0]
    return (f"- [{document.title}]({name}.md) ([CSV]({name}.csv), [HTML]({name}.html)): "
            f"{len(board.entries)} entries, {document.facts['test images']} test images; leader {leader.label}, "
            f"SRCC {leader.row['srcc']:.3f}; published {stamp.date} with nimabench {stamp.version}")


def update_index(directory: Path, name: str, line: str) -> Path:
    """Replace (or add) this document's line in DIR/README.md's index, keeping every other line and any
    text written around the index."""
    path = directory / "README.md"
    text = path.read_text(encoding="utf-8") if path.exists() else (
        "# Published leaderboards\n\nWritten by `nimabench leaderboard --publish`; a leaderboard's line is "
        "replaced when it is published again.\n")
    if INDEX_START not in text:
        text = text.rstrip("\n") + f"\n\n{INDEX_START}\n{INDEX_END}\n"
    before, rest = text.split(INDEX_START, 1)
    block, after = rest.split(INDEX_END, 1)
    lines = {_index_key(entry): entry for entry in block.strip("\n").splitlines() if entry.strip()}
    lines[f"{name}.md"] = line
    body = "\n".join(lines[key] for key in sorted(lines))
    path.write_text(f"{before}{INDEX_START}\n{body}\n{INDEX_END}{after}", encoding="utf-8")
    return path


def _index_key(line: str) -> str:
    found = re.search(r"\]\(([^)]+\.md)\)", line)
    return found.group(1) if found else line
