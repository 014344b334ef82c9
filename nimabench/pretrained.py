"""Whether a trial starts from pretrained weights: the one rule both trainers follow.

Weights found on this machine are always used. Without them a trial fails with an error listing every place
that was searched, unless ``allow_random_init`` is set: then it trains from random weights and warns with
:class:`RandomInitWarning`, so a random-init result is never mistaken for a fine-tuned one. Each framework
words the error itself (its hint says how to fill its own cache), through ``missing_message``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

from nimabench.backbone import Backbone
from nimabench.errors import NimabenchError
from nimabench.trainer import RunOptions

# missing_message(backbone name, places searched) -> the error's text
MissingMessage = Callable[[str, tuple[str, ...]], str]


class RandomInitWarning(UserWarning):
    """A trial trains from random weights because no pretrained weights were found (allow_random_init)."""


def missing_weights_message(name: str, searched: tuple[str, ...]) -> str:
    places = "; ".join(searched) or "nowhere"
    return (f"no pretrained weights for backbone {name!r} on this machine (nimabench never downloads). "
            f"Looked in: {places}. Put a weights file there, or allow random init (--allow-random-init).")


def pretrained_weights(backbone: Backbone, options: RunOptions,
                       missing_message: MissingMessage = missing_weights_message) -> str | None:
    """Where the pretrained weights are (load them), or None (train from random init, as allowed).

    Raises :class:`NimabenchError` when nothing is found and ``options.allow_random_init`` is off.
    """
    lookup = backbone.find_pretrained(options.weights_dir)
    if lookup.found:
        return lookup.found
    message = missing_message(backbone.name, lookup.searched)
    if not options.allow_random_init:
        raise NimabenchError(message)
    warnings.warn(f"{message} Training from random init, as allowed.", RandomInitWarning, stacklevel=2)
    return None
