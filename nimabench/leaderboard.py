"""Ranked leaderboards from the store: one per (task, dataset), one row per recipe (seeds aggregated).

Entries are ranked by mean test SRCC over seeds. From the stored per-image test predictions each entry gets
bootstrap intervals of SRCC and PLCC, and tie groups replace exact ranks: the best entry and every entry not
significantly worse than it (paired bootstrap, Holm-corrected) share a rank range such as "1-3"; the
procedure repeats on what is left. Entries on different test images are never compared pairwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nimabench.stats import BootstrapSettings, Comparison, Interval, compare_srcc, correlation_intervals, holm
from nimabench.store import Store

METRIC_COLUMNS = ("srcc", "plcc", "krcc", "emd1", "rmse", "accuracy")
INTERVAL_METRICS = ("srcc", "plcc")
RECIPE_FIELDS = ("backbone", "framework", "pretrained", "loss", "schedule", "settings")
PIVOT_FIELDS = ("loss", "schedule", "framework")
# The stable columns of a leaderboard (CSV, JSON); a metric a task lacks (accuracy) is left empty, not dropped.
COLUMNS = (
    "rank", "rank_low", "rank_high", "tie_group", "task", "dataset", *RECIPE_FIELDS, "seeds", "trial_ids",
    "test_images",
    "srcc", "srcc_ci_low", "srcc_ci_high", "srcc_seed_std", "plcc", "plcc_ci_low", "plcc_ci_high", "plcc_seed_std",
    "krcc", "krcc_seed_std", "emd1", "emd1_seed_std", "rmse", "rmse_seed_std", "accuracy", "accuracy_seed_std",
    "srcc_diff_vs_leader", "srcc_diff_ci_low", "srcc_diff_ci_high", "p_vs_leader_holm", "tied_with_leader",
    "parameters_m", "train_seconds", "train_images_per_second", "best_epochs", "note",
)


@dataclass(frozen=True)
class TestSet:
    """An entry's test images (sorted ids), their true mean scores and each seed's predicted mean scores."""

    image_ids: tuple[str, ...]
    truth: np.ndarray
    predictions: np.ndarray  # (seeds, images)

    def same_as(self, other: TestSet) -> bool:
        """Same images with the same labels: only then is a paired comparison meaningful."""
        return self.image_ids == other.image_ids and np.allclose(self.truth, other.truth)


@dataclass
class Entry:
    row: dict  # the COLUMNS values, filled in as the leaderboard is built
    test_set: TestSet | None
    notes: list[str] = field(default_factory=list)  # why an interval or a comparison is missing

    @property
    def label(self) -> str:
        parts = [self.row["backbone"], self.row["loss"], self.row["schedule"]]
        return " / ".join([*parts, self.row["settings"]] if self.row["settings"] else parts)


@dataclass
class Leaderboard:
    task: str
    dataset: str
    entries: list[Entry]  # ranked
    trials: pd.DataFrame  # the complete trials behind the entries, with their metrics
    settings: BootstrapSettings

    @property
    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([entry.row for entry in self.entries], columns=list(COLUMNS))

    @property
    def slug(self) -> str:
        return f"{self.task}-{self.dataset}"


def build_leaderboards(store: Store, task: str | None = None, dataset: str | None = None,
                       settings: BootstrapSettings | None = None) -> list[Leaderboard]:
    """One leaderboard per (task, dataset) among the complete trials, in the order the trials were run."""
    settings = settings or BootstrapSettings()
    trials = complete_trials(store, task, dataset)
    return [_leaderboard(store, group, settings)
            for _, group in trials.groupby(["task", "dataset"], sort=False)] if not trials.empty else []


def leaderboard_frame(store: Store, task: str | None = None, dataset: str | None = None,
                      settings: BootstrapSettings | None = None) -> pd.DataFrame:
    """Every leaderboard's rows in one frame (the COLUMNS), best first within each (task, dataset)."""
    boards = build_leaderboards(store, task, dataset, settings)
    return pd.concat([board.frame for board in boards], ignore_index=True) if boards else pd.DataFrame()


def complete_trials(store: Store, task: str | None, dataset: str | None) -> pd.DataFrame:
    """Complete trials joined with their test metrics, indexed by trial id, with a ``recipe`` key."""
    trials = store.trials(status="complete")
    if task:
        trials = trials[trials["task"] == task]
    if dataset:
        trials = trials[trials["dataset"] == dataset]
    metrics = store.metrics("test")
    if trials.empty or metrics.empty:
        return pd.DataFrame()
    joined = trials.set_index("id").join(metrics, how="inner")
    joined["recipe"] = joined["spec"].map(recipe_key)
    return joined


def recipe_key(spec_json: str) -> str:
    """Everything that defines a recipe: the spec without its seed."""
    spec = json.loads(spec_json)
    spec.pop("seed", None)
    return json.dumps(spec, sort_keys=True)


def recipe_settings(spec_json: str) -> str:
    """The spec's dataset options and overrides as ``key=value, ...`` (empty for the defaults)."""
    spec = json.loads(spec_json)
    options = {**spec.get("dataset_options", {}), **spec.get("overrides", {})}
    return ", ".join(f"{key}={value}" for key, value in sorted(options.items()))


def _leaderboard(store: Store, trials: pd.DataFrame, settings: BootstrapSettings) -> Leaderboard:
    entries = [_entry(store, group) for _, group in trials.groupby("recipe", sort=False)]
    entries.sort(key=_by_srcc)
    for entry in entries:
        _add_intervals(entry, settings)
    _rank_with_ties(entries, settings)
    entries.sort(key=lambda entry: entry.row["tie_group"])  # stable: SRCC order within a group
    for entry in entries:
        entry.row["note"] = "; ".join(entry.notes)
    first = trials.iloc[0]
    return Leaderboard(first["task"], first["dataset"], entries, trials, settings)


def _by_srcc(entry: Entry) -> float:
    """Best first; an undefined SRCC (constant predictions) last."""
    return -entry.row["srcc"] if np.isfinite(entry.row["srcc"]) else np.inf


def _entry(store: Store, group: pd.DataFrame) -> Entry:
    first = group.iloc[0]
    row = dict.fromkeys(COLUMNS, np.nan)
    row.update({
        "task": first["task"], "dataset": first["dataset"], "backbone": first["backbone"],
        "framework": first["framework"], "pretrained": bool(group["pretrained"].all()), "loss": first["loss"],
        "schedule": first["schedule"], "settings": recipe_settings(first["spec"]), "seeds": len(group),
        "trial_ids": ",".join(group.index), "note": "",
        "parameters_m": group["parameters"].mean() / 1e6, "train_seconds": group["train_seconds"].mean(),
        "train_images_per_second": group["train_images_per_second"].mean(),
        "best_epochs": ";".join(_best_epoch(details) for details in group["details"]),
    })
    for metric in METRIC_COLUMNS:
        values = group[metric] if metric in group else pd.Series([np.nan])
        row[metric] = values.mean()
        row[f"{metric}_seed_std"] = values.std(ddof=1) if len(values) > 1 else np.nan
    test_set, problem = load_test_set(store, list(group.index))
    entry = Entry(row, test_set, [problem] if problem else [])
    if not np.isfinite(row["srcc"]):
        entry.notes.append("SRCC undefined (constant predictions or truth): not compared")
    if test_set is not None:
        row["test_images"] = len(test_set.image_ids)
    return entry


def _best_epoch(details_json: str | None) -> str:
    best = json.loads(details_json or "{}").get("best") or {}
    if "epoch" not in best:
        return ""
    return f"{best['stage']}:{best['epoch']}" if "stage" in best else str(best["epoch"])


def load_test_set(store: Store, trial_ids: list[str]) -> tuple[TestSet | None, str]:
    """The seeds' predictions on their shared test images, or None and the reason there is none."""
    frames = []
    for trial_id in trial_ids:
        path = store.artefact(trial_id, "test_predictions")
        if path is None or not path.exists():
            return None, f"no per-image predictions stored for trial {trial_id}"
        frames.append(pd.read_csv(path, dtype={"image_id": str}).sort_values("image_id", kind="stable"))
    ids = tuple(frames[0]["image_id"])
    truth = frames[0]["true_mean"].to_numpy(dtype=np.float64)
    for frame in frames[1:]:
        if tuple(frame["image_id"]) != ids or not np.allclose(frame["true_mean"].to_numpy(), truth):
            return None, "the seeds were tested on different images: no interval"
    predictions = np.stack([frame["pred_mean"].to_numpy(dtype=np.float64) for frame in frames])
    return TestSet(ids, truth, predictions), ""


def _add_intervals(entry: Entry, settings: BootstrapSettings) -> None:
    if entry.test_set is None:
        return
    if len(entry.test_set.image_ids) < 3:
        entry.notes.append("fewer than 3 test images: no interval")
        return
    intervals: dict[str, Interval] = correlation_intervals(entry.test_set.truth, entry.test_set.predictions,
                                                           settings)
    for metric in INTERVAL_METRICS:
        entry.row[f"{metric}_ci_low"] = intervals[metric].low
        entry.row[f"{metric}_ci_high"] = intervals[metric].high
    if any(np.isnan(interval.low) for interval in intervals.values()):
        entry.notes.append(f"interval undefined: some resamples of the {len(entry.test_set.image_ids)} test "
                           "images have constant scores")


def _rank_with_ties(entries: list[Entry], settings: BootstrapSettings) -> None:
    """Tie groups, best first: the best remaining entry heads a group that takes every remaining entry on the
    same test images not significantly worse than it (Holm over that group's comparisons). The first group's
    comparisons are the ones against the leader, recorded in the ``*_vs_leader`` columns."""
    remaining = list(entries)
    position = 1
    for group in range(1, len(entries) + 1):
        if not remaining:
            break
        head, rest = remaining[0], remaining[1:]
        comparable = _comparable(head, rest)
        comparisons = [_compare(entry, head, settings) for entry in comparable]
        adjusted = holm([c.p_value for c in comparisons]) if comparisons else np.array([])
        # NaN (too few images to test) is no evidence of a difference: such entries stay tied.
        tied = [entry for entry, p in zip(comparable, adjusted, strict=True) if not p < settings.alpha]
        if group == 1:
            _record_vs_leader(head, rest, comparable, comparisons, adjusted, settings)
        members = [head, *tied]
        for member in members:
            member.row.update(tie_group=group, rank_low=position, rank_high=position + len(members) - 1,
                              rank=_rank_text(position, position + len(members) - 1))
        position += len(members)
        remaining = [entry for entry in rest if not any(entry is member for member in tied)]


def _comparable(head: Entry, others: list[Entry]) -> list[Entry]:
    if not _testable(head):
        return []
    return [entry for entry in others if _testable(entry) and entry.test_set.same_as(head.test_set)]


def _testable(entry: Entry) -> bool:
    return entry.test_set is not None and len(entry.test_set.image_ids) >= 3 and np.isfinite(entry.row["srcc"])


def _compare(entry: Entry, head: Entry, settings: BootstrapSettings) -> Comparison:
    """SRCC(entry) - SRCC(head): negative when the entry is worse."""
    return compare_srcc(head.test_set.truth, entry.test_set.predictions, head.test_set.predictions, settings)


def _record_vs_leader(leader: Entry, rest: list[Entry], comparable: list[Entry], comparisons: list[Comparison],
                      adjusted: np.ndarray, settings: BootstrapSettings) -> None:
    leader.row.update(srcc_diff_vs_leader=0.0, tied_with_leader=True)
    for entry, comparison, p in zip(comparable, comparisons, adjusted, strict=True):
        entry.row.update(srcc_diff_vs_leader=comparison.difference, srcc_diff_ci_low=comparison.low,
                         srcc_diff_ci_high=comparison.high, p_vs_leader_holm=float(p),
                         tied_with_leader=bool(not p < settings.alpha))
    for entry in rest:
        if not any(entry is other for other in comparable):
            entry.row["tied_with_leader"] = None
            if entry.test_set is not None and leader.test_set is not None:
                entry.notes.append("tested on other images than the leader: not compared with it")
            elif entry.test_set is not None:
                entry.notes.append("the leader has no per-image predictions: not compared with it")


def _rank_text(low: int, high: int) -> str:
    return str(low) if low == high else f"{low}-{high}"


# -- protocol facts -------------------------------------------------------------------------------------------

def protocol(board: Leaderboard) -> dict[str, str]:
    """What a reader needs to interpret the numbers, read from the trials' stored details and specs."""
    details = [json.loads(text or "{}") for text in board.trials["details"]]
    options = [d.get("options") or {} for d in details]
    test_images = [int(entry.row["test_images"]) for entry in board.entries if pd.notna(entry.row["test_images"])]
    test_images = test_images or [(d.get("counts") or {}).get("test") for d in details]
    return {
        "task": board.task,
        "dataset": board.dataset,
        "split": _one_or_varies(d.get("split_policy") for d in details),
        "test images": _one_or_varies(test_images),
        "crop policy": _crop_policy(details, options),
        "label strategy": _one_or_varies(d.get("label_strategy") for d in details),
        "batch size": _one_or_varies(o.get("batch_size") for o in options),
        "recipe settings": _one_or_varies(entry.row["settings"] or "defaults" for entry in board.entries),
        "checkpoint": "the best validation epoch, as recorded by each trial (stage:epoch in best_epochs)"
        if all("epoch" in (d.get("best") or {}) for d in details) else "not recorded",
        "EMD": "r = 1, per image then averaged",
        "PLCC": "Pearson on mean scores, without logistic correction",
        "intervals": f"{board.settings.describe()}; with several seeds, the mean of the seeds' correlations, "
                     "each image resample applied to every seed; ± is the std over seeds",
        "ties": board.settings.describe_ties(),
    }


def _crop_policy(details: list[dict], options: list[dict]) -> str:
    """The cached square size and the network input the trials recorded (trainers scale the cache with the
    input to keep NIMA's 224-from-256 ratio), and the augmentation every trainer applies."""
    cache = _one_or_varies(d.get("cache_side") or o.get("cache_size") for d, o in zip(details, options, strict=True))
    size = _one_or_varies(d.get("image_size") or o.get("image_size") or "backbone default"
                          for d, o in zip(details, options, strict=True))
    return (f"square resize to {cache} px (aspect not kept), then a random {size} px crop and a horizontal flip "
            f"for training; the centre {size} px crop for validation and test")


def _one_or_varies(values) -> str:
    """The one value all trials share, or every distinct value when they differ."""
    distinct = sorted({json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else str(v)
                       for v in values if v is not None})
    if not distinct:
        return "not recorded"
    return distinct[0] if len(distinct) == 1 else "varies: " + "; ".join(distinct)


# -- pivot tables ----------------------------------------------------------------------------------------------

@dataclass
class Pivot:
    """Rows: the recipe without the pivoted field; per level, SRCC and its interval; per level other than the
    baseline, the paired difference with the baseline's SRCC, its interval and a Holm-adjusted p-value."""

    by: str
    levels: list[str]
    baseline: str
    frame: pd.DataFrame


def pivot(board: Leaderboard, by: str, baseline: str | None = None) -> Pivot:
    if by not in PIVOT_FIELDS:
        raise ValueError(f"cannot pivot by {by!r}; choose from {', '.join(PIVOT_FIELDS)}")
    levels = sorted({str(entry.row[by]) for entry in board.entries})
    baseline = baseline if baseline is not None else levels[0]
    if baseline not in levels:
        raise ValueError(f"baseline {baseline!r} is not a {by} of this leaderboard ({', '.join(levels)})")
    keys = [field_ for field_ in RECIPE_FIELDS if field_ != by]
    rows, comparisons = [], []
    for key, cells in _pivot_cells(board.entries, keys, by).items():
        row = dict(zip(keys, key, strict=True))
        for level in levels:
            _pivot_level(row, level, cells.get(level))
        for level in levels:
            if level != baseline:
                comparisons.append((row, level, _pivot_difference(cells.get(level), cells.get(baseline),
                                                                  board.settings)))
        rows.append(row)
    _pivot_holm(comparisons, baseline)
    frame = pd.DataFrame(rows).sort_values(keys[0], kind="stable").reset_index(drop=True)
    return Pivot(by, levels, baseline, frame)


def _pivot_cells(entries: list[Entry], keys: list[str], by: str) -> dict[tuple, dict[str, Entry]]:
    cells: dict[tuple, dict[str, Entry]] = {}
    for entry in entries:
        cells.setdefault(tuple(entry.row[k] for k in keys), {})[str(entry.row[by])] = entry
    return cells


def _pivot_level(row: dict, level: str, entry: Entry | None) -> None:
    for suffix in ("", "_ci_low", "_ci_high"):
        row[f"srcc_{level}{suffix}"] = entry.row[f"srcc{suffix}"] if entry else np.nan


def _pivot_difference(entry: Entry | None, baseline: Entry | None,
                      settings: BootstrapSettings) -> Comparison | str:
    if entry is None or baseline is None:
        return "no such entry"
    if not _comparable(baseline, [entry]):
        return "not comparable (other test images, or no per-image predictions)"
    return _compare(entry, baseline, settings)


def _pivot_holm(comparisons: list[tuple[dict, str, Comparison | str]], baseline: str) -> None:
    tested = [c for _, _, c in comparisons if isinstance(c, Comparison)]
    adjusted = iter(holm([c.p_value for c in tested])) if tested else iter(())
    for row, level, comparison in comparisons:
        name = f"{level}_minus_{baseline}"
        if isinstance(comparison, Comparison):
            row.update({f"srcc_{name}": comparison.difference, f"srcc_{name}_ci_low": comparison.low,
                        f"srcc_{name}_ci_high": comparison.high, f"p_{name}_holm": float(next(adjusted)),
                        f"note_{name}": ""})
        else:
            row.update({f"srcc_{name}": np.nan, f"srcc_{name}_ci_low": np.nan, f"srcc_{name}_ci_high": np.nan,
                        f"p_{name}_holm": np.nan, f"note_{name}": comparison})
