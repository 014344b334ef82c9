"""Dataset options (``key=value``, often strings from the command line), checked and converted early.

Each dataset class documents its options in ``options_help`` (name -> one line). A converted value is
written back into ``dataset.options``, so ``folds="5"`` and ``folds=5`` give the same trial config.
"""

from __future__ import annotations

import difflib
from typing import Any

from nimabench.errors import DatasetError

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def check_options(dataset: Any) -> None:
    """Refuse an option the dataset does not know (a typo would otherwise be ignored silently)."""
    known = dict(getattr(type(dataset), "options_help", {}))
    for name in sorted(set(dataset.options) - set(known)):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        listing = ", ".join(f"{key} ({text})" for key, text in known.items()) or "none"
        raise DatasetError(f"dataset {dataset.name!r} has no option {name!r}{hint} Its options: {listing}")


def int_option(dataset: Any, name: str, default: int | None = None, minimum: int | None = None) -> int | None:
    value = dataset.options.get(name, default)
    if value is None:
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        raise _bad(dataset, name, value, "an integer") from None
    if minimum is not None and number < minimum:
        raise _bad(dataset, name, value, f"an integer >= {minimum}")
    return _store(dataset, name, number)


def float_option(dataset: Any, name: str, default: float | None = None) -> float | None:
    value = dataset.options.get(name, default)
    if value is None:
        return None
    try:
        return _store(dataset, name, float(str(value).strip()))
    except ValueError:
        raise _bad(dataset, name, value, "a number") from None


def bool_option(dataset: Any, name: str, default: bool) -> bool:
    value = dataset.options.get(name, default)
    if isinstance(value, bool):
        return _store(dataset, name, value)
    word = str(value).strip().lower()
    if word not in TRUE_WORDS + FALSE_WORDS:
        raise _bad(dataset, name, value, f"one of {', '.join(TRUE_WORDS + FALSE_WORDS)}")
    return _store(dataset, name, word in TRUE_WORDS)


def choice_option(dataset: Any, name: str, choices: tuple[str, ...], default: str) -> str:
    value = str(dataset.options.get(name, default)).strip()
    if value not in choices:
        raise _bad(dataset, name, value, f"one of {', '.join(choices)}")
    return _store(dataset, name, value)


def fold_option(dataset: Any) -> tuple[int, int] | None:
    """``folds=K`` with ``fold=i`` (0-based) for cross-validation, or None when neither is given."""
    folds = int_option(dataset, "folds", minimum=2)
    fold = int_option(dataset, "fold", minimum=0)
    if (folds is None) != (fold is None):
        raise DatasetError(f"dataset {dataset.name!r}: options folds and fold go together "
                           f"(for example folds=5 fold=0); got folds={folds}, fold={fold}")
    if folds is not None and fold >= folds:
        raise DatasetError(f"dataset {dataset.name!r}: option fold={fold} must be 0..{folds - 1} for folds={folds}")
    return None if folds is None else (folds, fold)


def _store(dataset: Any, name: str, value: Any) -> Any:
    if name in dataset.options:
        dataset.options[name] = value
    return value


def _bad(dataset: Any, name: str, value: Any, wanted: str) -> DatasetError:
    return DatasetError(f"dataset {dataset.name!r}: option {name}={value!r} must be {wanted}")
