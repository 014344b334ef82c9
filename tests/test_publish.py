"""Leaderboard documents: golden markdown, CSV and LaTeX; JSON; publishing with its README index; the HTML page
in headless Chromium."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image

from nimabench.leaderboard import COLUMNS, pivot
from nimabench.leaderboard_cli import leaderboard_command
from nimabench.publish import (
    INDEX_END,
    INDEX_START,
    Stamp,
    latex_escape,
    leaderboard_document,
    pivot_document,
    publish,
    render,
    update_index,
)

GOLDEN = Path(__file__).parent / "golden"
STAMP = Stamp(version="0.1.0", date="2025-01-01")
# NIMABENCH_UPDATE_GOLDEN=1 rewrites the golden files; review the diff before keeping it.
UPDATE_GOLDEN = os.environ.get("NIMABENCH_UPDATE_GOLDEN") == "1"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


@pytest.fixture(scope="module")
def published(board, store, tmp_path_factory):
    directory = tmp_path_factory.mktemp("published")
    return directory, publish(board, store, directory, STAMP)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE_GOLDEN:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with NIMABENCH_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("fmt", "suffix"), [("markdown", "md"), ("csv", "csv"), ("latex", "tex")])
def test_formats_match_their_golden_files(board, fmt, suffix):
    check_golden(f"technical-synthetic-tid.{suffix}", render(leaderboard_document(board, STAMP), fmt))


def test_the_pivot_matches_its_golden_file(board):
    check_golden("technical-synthetic-tid-by-loss.md",
                 render(pivot_document(board, pivot(board, "loss"), STAMP), "markdown"))


def test_the_markdown_header_states_the_protocol(board):
    text = render(leaderboard_document(board, STAMP), "markdown")
    header = text.split("\n\n")[1]
    for fact in ("**task**: technical", "**dataset**: synthetic-tid", "**split**: by reference image",
                 "**test images**: 100", "**crop policy**: square resize to 256 px", "**label strategy**: votes",
                 "**EMD**: r = 1", "without logistic correction", "**nimabench**: 0.1.0", "**date**: 2025-01-01"):
        assert fact in header


def test_csv_columns_are_stable(board):
    frame = pd.read_csv(io.StringIO(render(leaderboard_document(board, STAMP), "csv")))
    assert list(frame.columns) == list(COLUMNS)
    assert {"srcc", "srcc_ci_low", "srcc_ci_high", "plcc", "plcc_ci_low", "plcc_ci_high"} <= set(frame.columns)


def test_latex_is_booktabs_and_escaped(board):
    table = render(leaderboard_document(board, STAMP), "latex").split(r"\begin{table}")[1]
    assert r"\toprule" in table and r"\midrule" in table and r"\bottomrule" in table
    assert r"efficientnet\_lite0" in table and "efficientnet_lite0" not in table
    assert "1--2" in table and r"$\pm$" in table and "±" not in table
    assert latex_escape("a_b & 50% #1") == r"a\_b \& 50\% \#1"


def test_json_holds_the_facts_and_the_rows(board):
    document = json.loads(render(leaderboard_document(board, STAMP), "json"))
    assert document["facts"]["date"] == "2025-01-01"
    assert [row["rank"] for row in document["rows"]] == ["1-2", "1-2", "3-4", "3-4"]
    assert document["rows"][0]["p_vs_leader_holm"] is None


def test_publish_writes_the_files_and_plots(published):
    directory, written = published
    names = sorted(path.name for path in written)
    assert names == sorted([
        "technical-synthetic-tid.md", "technical-synthetic-tid.csv", "technical-synthetic-tid.html", "README.md",
        *(f"technical-synthetic-tid-{kind}.png" for kind in ("intervals", "cost", "history", "predictions"))])
    markdown = (directory / "technical-synthetic-tid.md").read_text()
    assert "![Test SRCC of every entry" in markdown and "(technical-synthetic-tid-intervals.png)" in markdown
    html = (directory / "technical-synthetic-tid.html").read_text()
    assert html.count('src="data:image/png;base64,') == 4 and "<script" not in html


def test_the_index_is_updated_not_overwritten(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# Our results\n\nHand-written introduction.\n")
    update_index(tmp_path, "technical-tid2013", "- [technical / tid2013](technical-tid2013.md): first")
    update_index(tmp_path, "aesthetic-ava", "- [aesthetic / ava](aesthetic-ava.md): first")
    update_index(tmp_path, "technical-tid2013", "- [technical / tid2013](technical-tid2013.md): again")
    text = readme.read_text()
    assert text.startswith("# Our results\n\nHand-written introduction.\n")
    block = text.split(INDEX_START)[1].split(INDEX_END)[0].strip().splitlines()
    assert block == ["- [aesthetic / ava](aesthetic-ava.md): first",
                     "- [technical / tid2013](technical-tid2013.md): again"]


def test_publishing_twice_keeps_one_index_line(board, store, tmp_path):
    publish(board, store, tmp_path, STAMP)
    publish(board, store, tmp_path, Stamp(version="0.1.0", date="2025-02-01"), table=pivot(board, "loss"))
    publish(board, store, tmp_path, Stamp(version="0.1.0", date="2025-03-01"))
    lines = [line for line in (tmp_path / "README.md").read_text().splitlines() if line.startswith("- [")]
    assert len(lines) == 2
    (board_line,) = [line for line in lines if "(technical-synthetic-tid.md)" in line]
    assert "2025-03-01" in board_line
    assert any("(technical-synthetic-tid-by-loss.md)" in line for line in lines)
    assert (tmp_path / "technical-synthetic-tid-by-loss.csv").exists()


def test_the_publish_option(store, tmp_path):
    result = CliRunner().invoke(leaderboard_command, ["--results", str(store.results_dir), "--publish",
                                                      str(tmp_path / "site"), "--n-resamples", "500"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "technical-synthetic-tid.html").exists()
    assert "technical-synthetic-tid.md" in (tmp_path / "site" / "README.md").read_text()


PROBE = """<script>
window.addEventListener("load", () => {
  const table = document.querySelector("table.leaderboard");
  document.body.setAttribute("data-probe", JSON.stringify({
    rows: table.querySelectorAll("tbody tr").length,
    columns: table.querySelectorAll("thead th").length,
    firstCell: table.querySelector("tbody td").textContent,
    images: [...document.images].map(image => [image.complete, image.naturalWidth, image.naturalHeight]),
  }));
});
</script>
"""


def chromium(*arguments: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments],
                          capture_output=True, text=True, timeout=120, check=True)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed at /usr/bin/chromium (Debian: "
                    "apt-get install chromium), so the HTML page is not opened in a browser")
def test_the_html_page_renders_in_headless_chromium(published, tmp_path):
    directory, _ = published
    page = (directory / "technical-synthetic-tid.html").read_text()
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"))
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", probed.as_uri(), profile=tmp_path / "profile-1").stdout
    found = re.search(r'data-probe="([^"]*)"', dom)
    assert found, dom[:2000]
    probe = json.loads(found.group(1).replace("&quot;", '"'))
    assert probe["rows"] == 4 and probe["columns"] >= 16 and probe["firstCell"] == "1-2"
    sizes = [Image.open(directory / f"technical-synthetic-tid-{kind}.png").size
             for kind in ("intervals", "cost", "history", "predictions")]
    assert [tuple(image[1:]) for image in probe["images"]] == sizes  # every image decoded at its size
    assert all(image[0] for image in probe["images"])

    screenshot = tmp_path / "page.png"
    chromium(f"--screenshot={screenshot}", "--window-size=1400,1200", (directory / "technical-synthetic-tid.html")
             .as_uri(), profile=tmp_path / "profile-2")
    colours = Image.open(screenshot).convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50  # text, table shading and plots, not a blank page
