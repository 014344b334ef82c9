"""The local runner: each trial of a grid in its own child process, with rich progress bars.

Trials complete in the store are skipped (unless ``rerun``). A failure - an exception, a NaN loss, a crashed
or killed child, an out-of-memory kill - is recorded with its message and the grid goes on.
"""

from __future__ import annotations

import ctypes
import json
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from nimabench.backbone import resolve_backbone
from nimabench.plugins import collect
from nimabench.store import Store
from nimabench.trainer import RunOptions
from nimabench.trial import TrialSpec

PR_SET_PDEATHSIG = 1


@dataclass
class TrialOutcome:
    spec: TrialSpec
    status: str  # complete | failed | skipped
    error: str | None = None
    metrics: dict[str, float] | None = None


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the runner dies, so no orphan trial writes after a killed grid."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def run_grid(trials: list[TrialSpec], store: Store, options: RunOptions, *, data_dir: Path | None = None,
             rerun: bool = False, console: Console | None = None) -> list[TrialOutcome]:
    console = console or Console(stderr=True)
    outcomes = []
    backbones = collect("backbone")
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        grid_task = progress.add_task("grid", total=len(trials))
        trial_task = progress.add_task("trial", total=None)
        for spec in trials:
            if not rerun and store.status(spec.trial_id) == "complete":
                outcomes.append(TrialOutcome(spec, "skipped"))
                progress.console.print(f"[dim]skip {describe(spec)}: complete in the store[/]")
                progress.advance(grid_task)
                continue
            framework = resolve_backbone(backbones, spec.backbone).obj.framework
            store.mark_running(spec, framework)
            progress.update(grid_task, description=f"grid: {describe(spec)}")
            outcome = run_child(spec, store, options, data_dir, progress, trial_task)
            outcomes.append(outcome)
            if outcome.status == "failed":
                store.mark_failed(spec.trial_id, outcome.error or "unknown error")
                progress.console.print(f"[red]failed[/] {describe(spec)}: {outcome.error}", highlight=False)
            else:
                srcc = (outcome.metrics or {}).get("srcc", float("nan"))
                progress.console.print(f"[green]done[/] {describe(spec)}: test SRCC {srcc:.3f}")
            progress.advance(grid_task)
    return outcomes


def describe(spec: TrialSpec) -> str:
    return f"{spec.backbone} / {spec.loss} / {spec.schedule} / seed {spec.seed} [{spec.trial_id}]"


def run_child(spec: TrialSpec, store: Store, options: RunOptions, data_dir: Path | None,
              progress: Progress, trial_task) -> TrialOutcome:
    request = {"spec": asdict(spec), "options": _jsonable(asdict(options)),
               "results_dir": str(store.results_dir), "data_dir": str(data_dir) if data_dir else None}
    log_path = store.artefact_dir(spec.trial_id) / "worker.log"
    with open(log_path, "w") as log_file:
        child = subprocess.Popen([sys.executable, "-m", "nimabench.worker"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=log_file, text=True,
                                 preexec_fn=_die_with_parent)
        child.stdin.write(json.dumps(request))
        child.stdin.close()
        error, metrics = None, None
        for line in child.stdout:
            event = _parse(line)
            if event.get("event") == "progress":
                _show(progress, trial_task, event)
            elif event.get("event") == "error":
                error = event["message"]
            elif event.get("event") == "done":
                metrics = event["metrics"]
        returncode = child.wait()
    progress.reset(trial_task, total=None, description="trial")
    if returncode == 0 and metrics is not None:
        return TrialOutcome(spec, "complete", metrics=metrics)
    return TrialOutcome(spec, "failed", error=error or _exit_reason(returncode, log_path))


def _parse(line: str) -> dict[str, Any]:
    try:
        return json.loads(line)
    except json.JSONDecodeError:  # a library printing to stdout: not an event
        return {}


def _show(progress: Progress, trial_task, event: dict[str, Any]) -> None:
    text = f"  {event.get('stage', '')} epoch {event.get('epoch', 0) + 1}/{event.get('epochs', '?')}"
    if event.get("loss") is not None:
        text += f" loss {event['loss']:.4f}"
    progress.update(trial_task, description=text, completed=event.get("batch", 0), total=event.get("batches"))


def _exit_reason(returncode: int, log_path: Path) -> str:
    if returncode < 0:
        name = signal.Signals(-returncode).name
        hint = " (out of memory?)" if -returncode == signal.SIGKILL else ""
        return f"the trial's process was killed by {name}{hint}; log: {log_path}"
    tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] if log_path.exists() else []
    return f"the trial's process exited with {returncode}: {tail[0] if tail else 'no output'}; log: {log_path}"


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in values.items()}
