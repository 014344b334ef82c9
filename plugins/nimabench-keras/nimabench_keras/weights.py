"""Where ImageNet weights for a Keras backbone are on this machine, found without importing Keras.

Places, in the order they are tried (the first hit wins):

1. the weights dir (``RunOptions.weights_dir``, else ``$NIMABENCH_WEIGHTS``): the official file name
   (``<dir>/mobilenet_1_0_224_tf_no_top.h5``, so a copy of a Keras cache works as it is), then
   ``<dir>/<snake name>.h5`` or ``<dir>/<snake name>.weights.h5`` (a file a user saved under the backbone's
   name). It comes first because a user who names a folder means its files.
2. the Keras cache: ``$KERAS_HOME/models/<official file name>``; without KERAS_HOME, ``~/.keras/models`` or,
   when the home folder is not writable, ``/tmp/.keras/models``, exactly as Keras picks it.

Nothing is ever downloaded (``weights='imagenet'`` would try, and fails offline); a file found here is loaded
by path. To fill the cache once, run ``keras.applications.MobileNet(include_top=False)`` on a machine with a
network, or copy the files from one.
"""

from __future__ import annotations

import os
from pathlib import Path

from nimabench.backbone import WeightsLookup
from nimabench.errors import NimabenchError
from nimabench_keras.catalogue import CatalogueEntry

WEIGHTS_ENV = "NIMABENCH_WEIGHTS"


def resolve_weights_dir(weights_dir: Path | str | None) -> Path | None:
    if weights_dir:
        return Path(weights_dir).expanduser()
    from_env = os.environ.get(WEIGHTS_ENV)
    return Path(from_env).expanduser() if from_env else None


def keras_models_dir() -> Path:
    """The folder Keras caches application weights in (``keras.src.backend.config`` rules, read from env)."""
    if "KERAS_HOME" in os.environ:
        return Path(os.environ["KERAS_HOME"]).expanduser() / "models"
    home = Path.home()
    base = home if os.access(home, os.W_OK) else Path("/tmp")
    return base / ".keras" / "models"


def candidate_files(entry: CatalogueEntry, weights_dir: Path | str | None = None) -> list[Path]:
    """Every path looked at, in order."""
    folder = resolve_weights_dir(weights_dir)
    in_dir = [folder / name for name in (entry.weights_file, f"{entry.snake_name}.h5",
                                          f"{entry.snake_name}.weights.h5")] if folder else []
    return [*in_dir, keras_models_dir() / entry.weights_file]


def find_weights(entry: CatalogueEntry, weights_dir: Path | str | None = None) -> WeightsLookup:
    candidates = candidate_files(entry, weights_dir)
    found = next((path for path in candidates if path.is_file()), None)
    searched = tuple(str(path) for path in candidates)
    if resolve_weights_dir(weights_dir) is None:
        searched = (f"weights dir: none given (--weights-dir or ${WEIGHTS_ENV})", *searched)
    return WeightsLookup(str(found) if found else None, searched)


def missing_weights_error(backbone_name: str, lookup: WeightsLookup) -> NimabenchError:
    return NimabenchError(missing_weights_message(backbone_name, lookup.searched))


def missing_weights_message(backbone_name: str, searched: tuple[str, ...]) -> str:
    places = "\n  ".join(searched)
    return (
        f"no ImageNet weights for {backbone_name} on this machine; looked in:\n  {places}\n"
        "nimabench never downloads weights: copy the file into one of these places (the Keras cache fills "
        "when keras.applications builds the model with weights='imagenet' on a machine with a network), "
        "or pass --allow-random-init to train from random weights."
    )
