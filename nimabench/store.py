"""The results store: SQLite (stdlib) in the results dir, plus artefact files beside it.

Tables: trials (spec, status, error, timings, versions, device, pretrained, features cached), metrics (one row
per trial, split and metric), history (one row per trial epoch) and artefacts (paths of best weights and
per-image test predictions). Every write is one transaction, so an interrupted grid loses no finished trial:
a trial is complete only once its results are committed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from nimabench.trial import TrialSpec

DEFAULT_RESULTS_DIR = Path("nimabench-results")
DATABASE_NAME = "nimabench.sqlite"

SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    task TEXT NOT NULL,
    dataset TEXT NOT NULL,
    backbone TEXT NOT NULL,
    framework TEXT,
    loss TEXT NOT NULL,
    schedule TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
    error TEXT,
    started_at REAL,
    finished_at REAL,
    train_seconds REAL,
    train_images_per_second REAL,
    parameters INTEGER,
    pretrained INTEGER,
    features_cached INTEGER,
    device TEXT,
    versions TEXT,
    details TEXT
);
CREATE TABLE IF NOT EXISTS metrics (
    trial_id TEXT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    split TEXT NOT NULL,
    name TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (trial_id, split, name)
);
CREATE TABLE IF NOT EXISTS history (
    trial_id TEXT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    train_loss REAL,
    val_loss REAL,
    seconds REAL,
    images_per_second REAL,
    PRIMARY KEY (trial_id, stage, epoch)
);
CREATE TABLE IF NOT EXISTS artefacts (
    trial_id TEXT NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (trial_id, kind)
);
"""


class Store:
    def __init__(self, results_dir: Path = DEFAULT_RESULTS_DIR):
        self.results_dir = Path(results_dir)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.results_dir / DATABASE_NAME
        with self._connect() as connection:
            connection.executescript(SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One connection per use; ``with connection`` makes what runs inside it one transaction."""
        with closing(sqlite3.connect(self.path, timeout=30)) as connection:
            connection.execute("PRAGMA foreign_keys = ON")
            connection.row_factory = sqlite3.Row
            with connection:
                yield connection

    def artefact_dir(self, trial_id: str) -> Path:
        path = self.results_dir / "trials" / trial_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- writes ------------------------------------------------------------------------------------------
    def mark_running(self, spec: TrialSpec, framework: str | None) -> None:
        with self._connect() as connection:
            connection.execute("DELETE FROM trials WHERE id = ?", (spec.trial_id,))
            connection.execute(
                "INSERT INTO trials (id, spec, task, dataset, backbone, framework, loss, schedule, seed, status,"
                " started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?)",
                (spec.trial_id, spec.canonical_json(), spec.task, spec.dataset, spec.backbone, framework,
                 spec.loss, spec.schedule, spec.seed, time.time()),
            )

    def mark_failed(self, trial_id: str, error: str) -> None:
        with self._connect() as connection:
            connection.execute(
                "UPDATE trials SET status = 'failed', error = ?, finished_at = ? WHERE id = ?",
                (error, time.time(), trial_id),
            )

    def record_success(self, trial_id: str, *, summary: dict[str, Any], metrics: dict[str, dict[str, float]],
                       history: list[dict[str, Any]], artefacts: dict[str, str]) -> None:
        """All of a finished trial in one transaction: after it, the trial is complete; before, it is not."""
        with self._connect() as connection:
            connection.execute(
                "UPDATE trials SET status = 'complete', error = NULL, finished_at = ?, train_seconds = ?,"
                " train_images_per_second = ?, parameters = ?, pretrained = ?, features_cached = ?, device = ?,"
                " versions = ?, details = ? WHERE id = ?",
                (time.time(), summary["train_seconds"], summary["train_images_per_second"],
                 summary["parameters"], int(summary["pretrained"]), int(summary["features_cached"]),
                 summary["device"], json.dumps(summary["versions"], sort_keys=True),
                 json.dumps(summary.get("details", {}), sort_keys=True, default=str), trial_id),
            )
            for table in ("metrics", "history", "artefacts"):
                connection.execute(f"DELETE FROM {table} WHERE trial_id = ?", (trial_id,))
            connection.executemany(
                "INSERT INTO metrics (trial_id, split, name, value) VALUES (?, ?, ?, ?)",
                [(trial_id, split, name, _finite_or_none(value))
                 for split, values in metrics.items() for name, value in values.items()],
            )
            connection.executemany(
                "INSERT INTO history (trial_id, stage, epoch, train_loss, val_loss, seconds, images_per_second)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(trial_id, row["stage"], row["epoch"], row.get("train_loss"), row.get("val_loss"),
                  row.get("seconds"), row.get("images_per_second")) for row in history],
            )
            connection.executemany(
                "INSERT INTO artefacts (trial_id, kind, path) VALUES (?, ?, ?)",
                [(trial_id, kind, path) for kind, path in artefacts.items()],
            )

    # -- reads -------------------------------------------------------------------------------------------
    def status(self, trial_id: str) -> str | None:
        with self._connect() as connection:
            row = connection.execute("SELECT status FROM trials WHERE id = ?", (trial_id,)).fetchone()
        return row["status"] if row else None

    def trial(self, trial_id: str) -> dict[str, Any] | None:
        with self._connect() as connection:
            row = connection.execute("SELECT * FROM trials WHERE id = ?", (trial_id,)).fetchone()
        return dict(row) if row else None

    def trials(self, status: str | None = None) -> pd.DataFrame:
        query, params = "SELECT * FROM trials", ()
        if status:
            query, params = query + " WHERE status = ?", (status,)
        return self._frame(query + " ORDER BY started_at", params)

    def metrics(self, split: str = "test") -> pd.DataFrame:
        """Complete trials, one row each, one column per metric of ``split``."""
        long = self._frame(
            "SELECT m.trial_id, m.name, m.value FROM metrics m JOIN trials t ON t.id = m.trial_id"
            " WHERE t.status = 'complete' AND m.split = ?", (split,))
        if long.empty:
            return pd.DataFrame()
        return long.pivot(index="trial_id", columns="name", values="value")

    def history(self, trial_id: str | None = None) -> pd.DataFrame:
        if trial_id:
            return self._frame("SELECT * FROM history WHERE trial_id = ? ORDER BY rowid", (trial_id,))
        return self._frame("SELECT * FROM history ORDER BY trial_id, rowid")

    def artefact(self, trial_id: str, kind: str) -> Path | None:
        with self._connect() as connection:
            row = connection.execute("SELECT path FROM artefacts WHERE trial_id = ? AND kind = ?",
                                     (trial_id, kind)).fetchone()
        return self.results_dir / row["path"] if row else None

    def _frame(self, query: str, params: tuple = ()) -> pd.DataFrame:
        with self._connect() as connection:
            return pd.read_sql_query(query, connection, params=params)


def _finite_or_none(value: float | None) -> float | None:
    """SQLite stores NaN as NULL anyway; say so explicitly."""
    if value is None or value != value:
        return None
    return float(value)
