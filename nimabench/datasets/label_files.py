"""Reading the authors' label files so that a malformed line is an error naming the file and the line.

Each reader returns a DataFrame with the requested columns converted (``int``, ``float`` or ``str``) and a
``line`` column: the 1-based line of a text file, or the row of a spreadsheet, that each row came from.
Parsing is vectorised - pandas infers the types of a whitespace table in one pass, which reads AVA's 255,500
lines in well under a second - and only a column that comes back wrong is searched for its first bad line,
so clean files pay nothing for the line-numbered messages.
"""

from __future__ import annotations

import csv
import itertools
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from nimabench.errors import DatasetError

LINE = "line"
KINDS = ("int", "float", "str")
_EXTRA = "__one_field_too_many__"  # a whitespace line with one field too many fills this column
_CSV_HEADER_LINES = 1  # the first data row of a CSV (or spreadsheet) is line 2


def location(path: Path, line: int, unit: str = "line") -> str:
    """``<path>, line <n>``: the place a message points the user to."""
    return f"{path}, {unit} {line}"


def read_whitespace_table(path: Path, fields: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """A headerless file of whitespace-separated fields (AVA.txt, TID2013's); blank lines are skipped."""
    names = [name for name, _ in fields]
    try:
        raw = pd.read_csv(
            path, sep=r"\s+", header=None, names=[*names, _EXTRA],
            dtype={name: str for name, kind in fields if kind == "str"},
            skip_blank_lines=False,  # keeps row i on line i + 1
            quoting=csv.QUOTE_NONE, keep_default_na=False, na_values=[""], encoding_errors="replace",
        )
    except pd.errors.ParserError as error:
        raise DatasetError(_field_count_message(path, names, _line_of_parser_error(error))) from None
    raw[LINE] = np.arange(1, len(raw) + 1)
    raw = raw[raw[[*names, _EXTRA]].notna().any(axis=1)]
    short = raw[names].notna().sum(axis=1) < len(names)
    _raise_at_first(short | raw[_EXTRA].notna(), raw, lambda line, _: _field_count_message(path, names, line))
    return _converted(path, raw.drop(columns=_EXTRA), dict(fields), "line")


def read_csv_table(path: Path, columns: Mapping[str, str]) -> pd.DataFrame:
    """A CSV file with a header line; ``columns`` (name -> kind) must be present, other columns are kept."""
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], skip_blank_lines=False,
                          skipinitialspace=True, encoding_errors="replace")
    except pd.errors.ParserError as error:
        line = _line_of_parser_error(error)
        raise DatasetError(f"{location(path, line)}: the line has more fields than the header") from None
    except pd.errors.EmptyDataError:
        raise DatasetError(f"{path}: the file is empty; expected a header line") from None
    return _table_with_header(path, raw, columns, "line")


def read_excel_table(path: Path, columns: Mapping[str, str]) -> pd.DataFrame:
    """The first sheet of a spreadsheet whose first row is a header (SPAQ's annotations)."""
    try:
        raw = pd.read_excel(path, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as error:  # a damaged file fails in many ways
        raise DatasetError(f"{path}: cannot read the spreadsheet ({type(error).__name__}: {error})") from None
    return _table_with_header(path, raw, columns, "row")


def _table_with_header(path: Path, raw: pd.DataFrame, columns: Mapping[str, str], unit: str) -> pd.DataFrame:
    raw = raw.rename(columns=lambda name: str(name).strip())
    missing = [name for name in columns if name not in raw.columns]
    if missing:
        raise DatasetError(
            f"{location(path, 1, unit)}: missing column(s) {', '.join(missing)}; "
            f"the header has {', '.join(map(str, raw.columns))}"
        )
    raw[LINE] = np.arange(1, len(raw) + 1) + _CSV_HEADER_LINES
    raw = raw[raw.drop(columns=LINE).notna().any(axis=1)]  # blank lines and empty rows carry nothing
    return _converted(path, raw, columns, unit)


def _converted(path: Path, frame: pd.DataFrame, kinds: Mapping[str, str], unit: str) -> pd.DataFrame:
    if frame.empty:
        raise DatasetError(f"{path}: the file lists no images")
    frame = frame.copy()
    for column, kind in kinds.items():
        frame[column] = _typed_column(path, frame, column, kind, unit)
    return frame.reset_index(drop=True)


def _typed_column(path: Path, frame: pd.DataFrame, column: str, kind: str, unit: str) -> pd.Series:
    if kind not in KINDS:
        raise ValueError(f"unknown column kind {kind!r}; expected one of {KINDS}")
    values = frame[column]
    if is_numeric_dtype(values):  # pandas parsed every field as a number: only gaps can be wrong
        _raise_at_first(values.isna(), frame, lambda line, _: f"{location(path, line, unit)}: {column} is empty")
        if kind == "str":
            return values.astype(str)
        numeric = values
    else:
        text = values.astype(str).str.strip()
        _raise_at_first(values.isna() | (text == ""), frame,
                        lambda line, _: f"{location(path, line, unit)}: {column} is empty")
        if kind == "str":
            return text
        numeric = pd.to_numeric(text, errors="coerce")
    numbers = numeric.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(numbers)
    if kind == "int":
        bad |= np.mod(np.where(bad, 0.0, numbers), 1.0) != 0
    wanted = "an integer" if kind == "int" else "a finite number"
    _raise_at_first(bad, frame, lambda line, i: (
        f"{location(path, line, unit)}: {column} must be {wanted}, found {values.iloc[i]!r}"
    ))
    return pd.Series(numbers.astype(np.int64) if kind == "int" else numbers, index=frame.index)


def _raise_at_first(bad: pd.Series | np.ndarray, frame: pd.DataFrame,
                    message: Callable[[int, int], str]) -> None:
    """Raise a DatasetError for the first flagged row - ``message(line, position)`` - saying how many more."""
    flagged = np.flatnonzero(np.asarray(bad, dtype=bool))
    if not len(flagged):
        return
    first = int(flagged[0])
    more = f" (and {len(flagged) - 1} more)" if len(flagged) > 1 else ""
    raise DatasetError(message(int(frame[LINE].iloc[first]), first) + more)


def _line_of_parser_error(error: Exception) -> int:
    match = re.search(r"line (\d+)", str(error))
    return int(match.group(1)) if match else 0


def _field_count_message(path: Path, names: Sequence[str], line: int) -> str:
    text = line_text(path, line)
    return (f"{location(path, line)}: expected {len(names)} fields ({' '.join(names)}), "
            f"found {len(text.split())}: {text[:120]!r}")


def line_text(path: Path, line: int) -> str:
    """The text of one line (1-based), for error messages only."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return next(itertools.islice(handle, line - 1, None), "").rstrip("\r\n")


def check_range(path: Path, frame: pd.DataFrame, column: str, low: float, high: float,
                unit: str = "line") -> None:
    """Every value of ``column`` within [low, high]: a MOS off the dataset's scale means a wrong file."""
    values = frame[column].to_numpy(dtype=np.float64)
    _raise_at_first((values < low) | (values > high), frame, lambda line, i: (
        f"{location(path, line, unit)}: {column} {values[i]:g} is outside {low:g}..{high:g}"
    ))


def reject_duplicates(path: Path, frame: pd.DataFrame, column: str, unit: str = "line") -> None:
    """Each image listed once: predictions are joined to labels by image id."""
    repeated = frame[column].duplicated(keep="first")
    if repeated.any():
        value = frame.loc[repeated.to_numpy(), column].iloc[0]
        lines = frame.loc[(frame[column] == value).to_numpy(), LINE].to_list()
        raise DatasetError(f"{path}: {column} {value!r} is listed twice: {unit}s {lines[0]} and {lines[1]}")
