"""``synthetic-tid``: a small TID2013-like dataset generated on first use, with nothing to download.

Sources
    The natural photos that ship inside pip packages: scikit-image's ``skimage.data`` (astronaut, coffee,
    chelsea, rocket, the left stereo motorcycle, immunohistochemistry, hubble_deep_field, retina, and the
    greyscale camera, coins, clock, brick, grass, gravel, moon, made RGB) and scikit-learn's sample images
    (china, flower). A source that cannot be loaded offline is skipped. Each source gives up to
    ``views_per_source`` square references of 256x256 (the whole photo, then crops of 60% of its short side,
    never upsampled); the group, and so the unit of the train/val/test split, is the source photo.

Distortions
    Eight types at five levels each (:data:`DISTORTIONS`): Gaussian blur, JPEG compression, Gaussian noise,
    impulse noise, contrast loss, downsampling, colour quantisation and colour cast. The levels of each type are
    spaced as roughly equal perceptual steps, as TID2013's were. The pristine references are labelled too
    (distortion ``none``, level 0) so the top of the scale is represented.

Rater model (:class:`RaterModel`)
    The latent quality of an image is

        fr          = min(1, (1 - SSIM_Y) / ssim_span + chroma_shift / chroma_span)
        impairment  = annoyance[type] * (level_weight * level / 5 + (1 - level_weight) * fr)
        quality     = best - (best - worst) * impairment

    SSIM_Y is scikit-image's SSIM on luminance (Gaussian window, sigma 1.5, Wang et al. 2004) against the
    reference; chroma_shift is the mean CIELAB (a, b) distance at half resolution, so colour distortions
    that leave luminance alone still count. The level term stands for how visible the artefact is without
    the reference (what a no-reference model can learn); the SSIM term adds content dependence (blur on a
    smooth photo is hard to see). Defaults: level_weight 0.8, ssim_span 0.6, chroma_span 40, best 9,
    worst 1.5, annoyance 1 (0.9 colour quantisation, 0.85 colour cast). A panel of 30 raters, each with a
    fixed leniency bias ~ N(0, 0.4) drawn once, rates every image with vote = clip(round(quality + bias +
    N(0, 0.8)), 1, 10); the vote counts per bucket are the label. Mean scores then fall from about 8.9
    (pristine) through 7.5-8 (level 1) to 1.7-4 (level 5), monotone in level for every type, with a
    per-image std near 0.95. level_weight was 0.5 in generator version 1; at 0.8 (version 2) a pretrained
    EfficientNet-Lite0 fine-tuned for 3 epochs at 160 px went from test SRCC 0.43 to 0.50: with half the
    impairment coming from the full-reference term, the labels depended on more than an image alone shows.

Files (TID2013-like; all PNG, so JPEG compression is the only lossy step)
    ``reference_images/<source>-<view>.png``, ``distorted_images/<source>-<view>_<type>_<level>.png``,
    ``labels.csv`` (image, reference, source, distortion, level, c1..c10, mean, std, quality, ssim,
    chroma_shift) and ``synthetic_tid.json`` (generator version, generation config, sources, distortion
    parameters, rater model). Generation is deterministic for its seed, happens in a temporary folder that is
    renamed into place when complete, and is redone when the generator version or the config changes.
"""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from PIL import Image, ImageEnhance, ImageFilter

from nimabench import hookimpl
from nimabench.dataset import Dataset, probability_columns, split_by_group
from nimabench.datasets.options import check_options, int_option
from nimabench.errors import DatasetError
from nimabench.imagecache import available_cpus, process_alive, progress_bar
from nimabench.labels import distribution_moments, votes_to_distribution

log = logging.getLogger(__name__)

GENERATOR_VERSION = 2  # bump whenever a change would alter any pixel or label
IMAGE_SIZE = 256
SCORE_VALUES = tuple(float(s) for s in range(1, 11))
INFO_FILE = "synthetic_tid.json"
LABELS_FILE = "labels.csv"
TEST_FRACTION = 0.25  # of the source photos; with ~17 sources that is 4 photos, ~400 test images
PNG_COMPRESS_LEVEL = 1  # level 6 is 2-3x slower to write for files only about 5% smaller


# -- sources ---------------------------------------------------------------------------------------------------
def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        image = getattr(skimage.data, name)()
        return image[0] if name == "stereo_motorcycle" else image  # the left view; the right is near-identical

    return load


def _sklearn(file_name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_image

        return load_sample_image(file_name)

    return load


# Colour photos first, so a small ``n_sources`` (tests) still has varied colour content.
SOURCES: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": _skimage("astronaut"),
    "coffee": _skimage("coffee"),
    "chelsea": _skimage("chelsea"),
    "rocket": _skimage("rocket"),
    "china": _sklearn("china.jpg"),
    "flower": _sklearn("flower.jpg"),
    "motorcycle": _skimage("stereo_motorcycle"),
    "immunohistochemistry": _skimage("immunohistochemistry"),
    "hubble": _skimage("hubble_deep_field"),
    "retina": _skimage("retina"),
    "camera": _skimage("camera"),
    "coins": _skimage("coins"),
    "clock": _skimage("clock"),
    "brick": _skimage("brick"),
    "grass": _skimage("grass"),
    "gravel": _skimage("gravel"),
    "moon": _skimage("moon"),
}

# (fraction of the short side, centre row, centre column) of each view, in relative coordinates.
VIEWS = ((1.0, 0.5, 0.5), (0.6, 0.3, 0.3), (0.6, 0.7, 0.7), (0.6, 0.3, 0.7), (0.6, 0.7, 0.3))


def load_source(name: str) -> np.ndarray | None:
    """The photo as RGB uint8, or None (with a warning) when it is not available offline."""
    try:
        image = np.asarray(SOURCES[name]())
    except Exception as error:  # skimage may try a download through pooch; any failure just skips it
        log.warning("synthetic-tid: skipping source photo %r (%s: %s)", name, type(error).__name__, error)
        return None
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3].astype(np.uint8))


def square_view(photo: np.ndarray, view: int, size: int = IMAGE_SIZE) -> np.ndarray:
    """A ``size`` square reference cut from ``photo``; windows are at least ``size`` wide, so never upsampled."""
    fraction, centre_row, centre_col = VIEWS[view]
    height, width = photo.shape[:2]
    short = min(height, width)
    side = int(np.clip(round(fraction * short), min(size, short), short))
    top = int(np.clip(round(centre_row * height - side / 2), 0, height - side))
    left = int(np.clip(round(centre_col * width - side / 2), 0, width - side))
    window = Image.fromarray(photo[top:top + side, left:left + side])
    return np.asarray(window.resize((size, size), Image.Resampling.LANCZOS))


# -- distortions -----------------------------------------------------------------------------------------------
def gaussian_blur(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(sigma)))


def jpeg_compression(image: np.ndarray, quality: float, rng: np.random.Generator) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=int(quality))
    return np.asarray(Image.open(buffer).convert("RGB"))


def gaussian_noise(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    noisy = image + rng.normal(0.0, sigma, image.shape)  # independent per channel: colour noise
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def impulse_noise(image: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    noisy = image.copy()
    hit = rng.random(image.shape[:2]) < fraction
    noisy[hit] = np.where(rng.random(int(hit.sum())) < 0.5, 0, 255)[:, None]
    return noisy


def contrast_loss(image: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    return np.asarray(ImageEnhance.Contrast(Image.fromarray(image)).enhance(factor))


def downsampling(image: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    height, width = image.shape[:2]
    small = Image.fromarray(image).resize((round(width / factor), round(height / factor)), Image.Resampling.BOX)
    return np.asarray(small.resize((width, height), Image.Resampling.BILINEAR))


def colour_quantisation(image: np.ndarray, colours: float, rng: np.random.Generator) -> np.ndarray:
    """Median-cut palette without dithering; the palette comes from a 64x64 thumbnail, which gives the same
    SSIM within about 0.01 at a tenth of the cost of median cut on the full image."""
    full = Image.fromarray(image)
    thumbnail = full.resize((64, 64), Image.Resampling.BOX)
    palette = thumbnail.quantize(int(colours), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return np.asarray(full.quantize(palette=palette, dither=Image.Dither.NONE).convert("RGB"))


def colour_cast(image: np.ndarray, shift: float, rng: np.random.Generator) -> np.ndarray:
    """A warm white-balance error: red gains, blue loses (visible on greyscale sources too)."""
    gains = np.array([1.0 + shift, 1.0, 1.0 - shift])
    return np.clip(np.rint(image * gains + np.array([12.0 * shift, 0.0, 0.0])), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Distortion:
    name: str
    parameter: str  # what the levels set, for the info file
    levels: tuple[float, ...]  # level 1..5, mildest first
    annoyance: float  # perceptual weight of this type in the rater model
    apply: Callable[[np.ndarray, float, np.random.Generator], np.ndarray]


DISTORTIONS = (
    Distortion("gaussian_blur", "sigma (px)", (0.6, 1.2, 2.0, 3.0, 4.5), 1.0, gaussian_blur),
    Distortion("jpeg", "Pillow quality", (40, 20, 10, 5, 2), 1.0, jpeg_compression),
    Distortion("gaussian_noise", "sigma (of 255)", (5, 10, 18, 28, 42), 1.0, gaussian_noise),
    Distortion("impulse_noise", "fraction of pixels", (0.005, 0.01, 0.025, 0.05, 0.1), 1.0, impulse_noise),
    Distortion("contrast_loss", "Pillow contrast factor", (0.75, 0.55, 0.4, 0.28, 0.18), 1.0, contrast_loss),
    Distortion("downsampling", "factor", (1.5, 2, 3, 4, 6), 1.0, downsampling),
    Distortion("colour_quantisation", "colours", (64, 32, 16, 8, 4), 0.9, colour_quantisation),
    Distortion("colour_cast", "red/blue gain shift", (0.06, 0.12, 0.2, 0.3, 0.42), 0.85, colour_cast),
)
N_LEVELS = 5


# -- rater model -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RaterModel:
    """The simulated study; see the module docstring for the formula."""

    n_raters: int = 30
    bias_sd: float = 0.4  # each rater's fixed leniency
    noise_sd: float = 0.8  # each vote's own scatter
    level_weight: float = 0.8  # share of the content-independent level term in the impairment
    ssim_span: float = 0.6  # 1 - SSIM at which the structural term saturates
    chroma_span: float = 40.0  # mean CIELAB (a, b) shift at which the colour term saturates
    best: float = 9.0  # quality of a pristine reference
    worst: float = 1.5  # quality at full impairment

    def quality(self, ssim: float, chroma_shift: float, level: int, annoyance: float) -> float:
        full_reference = min(1.0, (1.0 - ssim) / self.ssim_span + chroma_shift / self.chroma_span)
        impairment = annoyance * (self.level_weight * level / N_LEVELS + (1 - self.level_weight) * full_reference)
        return self.best - (self.best - self.worst) * impairment

    def vote_counts(self, qualities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(n, 10) vote counts: every rater of the panel rates every image."""
        biases = rng.normal(0.0, self.bias_sd, self.n_raters)
        noise = rng.normal(0.0, self.noise_sd, (len(qualities), self.n_raters))
        votes = np.clip(np.rint(qualities[:, None] + biases[None, :] + noise), 1, 10).astype(np.int64)
        return np.stack([(votes == score).sum(axis=1) for score in range(1, 11)], axis=1)


RATER_MODEL = RaterModel()


def luminance_ssim(reference: np.ndarray, distorted: np.ndarray) -> float:
    from skimage.metrics import structural_similarity

    weights = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 luma
    return float(structural_similarity(reference @ weights, distorted @ weights, data_range=255.0,
                                       gaussian_weights=True, sigma=1.5, use_sample_covariance=False))


def half_resolution_lab(image: np.ndarray) -> np.ndarray:
    """CIELAB of a 2x box-downsampled copy: the eye resolves colour more coarsely than luminance (why JPEG
    subsamples chroma), and it makes the colour term four times cheaper."""
    from skimage.color import rgb2lab

    height, width = image.shape[:2]
    small = Image.fromarray(image).resize((width // 2, height // 2), Image.Resampling.BOX)
    return rgb2lab(np.asarray(small))


def chroma_shift(reference_lab: np.ndarray, distorted: np.ndarray) -> float:
    """Mean CIELAB (a, b) distance between the reference and ``distorted`` at half resolution."""
    difference = half_resolution_lab(distorted)[..., 1:] - reference_lab[..., 1:]
    return float(np.mean(np.hypot(difference[..., 0], difference[..., 1])))


# -- generation ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GenerationConfig:
    generation_seed: int = 0
    n_sources: int | None = None  # the first n of SOURCES; None for all
    views_per_source: int = 3
    image_size: int = IMAGE_SIZE


@dataclass(frozen=True)
class ReferenceJob:
    index: int  # position in the reference list: seeds this reference's random distortions
    name: str
    source: str
    pixels: np.ndarray
    seed: int
    folder: str


def render_reference(job: ReferenceJob) -> list[dict[str, Any]]:
    """Write one reference and all its distorted versions; return their label rows (without votes)."""
    folder = Path(job.folder)
    reference_file = f"reference_images/{job.name}.png"
    _save_png(job.pixels, folder / reference_file)
    rows = [_row(reference_file, job, "none", 0, ssim=1.0, chroma=0.0, annoyance=1.0)]
    reference_lab = half_resolution_lab(job.pixels)
    for type_index, distortion in enumerate(DISTORTIONS):
        for level, value in enumerate(distortion.levels, start=1):
            rng = np.random.default_rng([job.seed, job.index, type_index, level])
            distorted = distortion.apply(job.pixels, value, rng)
            file = f"distorted_images/{job.name}_{distortion.name}_{level}.png"
            _save_png(distorted, folder / file)
            rows.append(_row(file, job, distortion.name, level, ssim=luminance_ssim(job.pixels, distorted),
                             chroma=chroma_shift(reference_lab, distorted), annoyance=distortion.annoyance))
    return rows


def _row(file: str, job: ReferenceJob, distortion: str, level: int, *, ssim: float, chroma: float,
         annoyance: float) -> dict[str, Any]:
    return {"image": file, "reference": job.name, "source": job.source, "distortion": distortion, "level": level,
            "quality": RATER_MODEL.quality(ssim, chroma, level, annoyance), "ssim": ssim, "chroma_shift": chroma}


def _save_png(pixels: np.ndarray, path: Path) -> None:
    Image.fromarray(pixels).save(path, "PNG", compress_level=PNG_COMPRESS_LEVEL)


def reference_jobs(config: GenerationConfig, folder: Path) -> list[ReferenceJob]:
    names = list(SOURCES)[: config.n_sources]
    jobs: list[ReferenceJob] = []
    for source in names:
        photo = load_source(source)
        if photo is None:
            continue
        for view in range(config.views_per_source):
            pixels = square_view(photo, view, config.image_size)
            jobs.append(ReferenceJob(len(jobs), f"{source}-{view + 1}", source, pixels,
                                     config.generation_seed, str(folder)))
    if not jobs:
        raise DatasetError("synthetic-tid: none of the bundled source photos could be loaded")
    return jobs


def generate_into(folder: Path, config: GenerationConfig, workers: int | None = None) -> None:
    """Generate the whole set into ``folder`` (which should be empty); the info file is written last."""
    (folder / "reference_images").mkdir(parents=True)
    (folder / "distorted_images").mkdir()
    jobs = reference_jobs(config, folder)
    rows = [row for rows_of_one in _render_all(jobs, workers) for row in rows_of_one]
    labels = _with_votes(pd.DataFrame(rows), np.random.default_rng([config.generation_seed, 1]))
    labels.to_csv(folder / LABELS_FILE, index=False, float_format="%.6g")
    info = {"generator_version": GENERATOR_VERSION, "config": asdict(config),
            "sources": sorted({job.source for job in jobs}), "n_images": len(labels),
            "distortions": [{"name": d.name, "parameter": d.parameter, "levels": list(d.levels),
                             "annoyance": d.annoyance} for d in DISTORTIONS],
            "rater_model": asdict(RATER_MODEL), "score_values": list(SCORE_VALUES)}
    (folder / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n")


def _render_all(jobs: list[ReferenceJob], workers: int | None) -> list[list[dict[str, Any]]]:
    """Render references in processes (SSIM and CIELAB are NumPy-bound and keep the GIL), in job order."""
    workers = min(workers or available_cpus(), len(jobs))
    if workers <= 1:
        return [render_reference(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(render_reference, job) for job in jobs]  # workers fork before the bar's thread
        results = []
        try:
            with progress_bar() as progress:
                task = progress.add_task("generating synthetic-tid", total=len(futures))
                for future in futures:
                    results.append(future.result())
                    progress.advance(task)
        except BaseException:  # Ctrl-C: drop the queued references instead of rendering them all first
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return results


def _with_votes(rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    counts = RATER_MODEL.vote_counts(rows["quality"].to_numpy(), rng)
    mean, std = distribution_moments(votes_to_distribution(counts), SCORE_VALUES)
    votes = pd.DataFrame(counts, columns=[f"c{k}" for k in range(1, 11)])
    front = rows[["image", "reference", "source", "distortion", "level"]]
    back = rows[["quality", "ssim", "chroma_shift"]]
    return pd.concat([front, votes, pd.DataFrame({"mean": mean, "std": std}), back], axis=1)


def is_current(data_dir: Path, config: GenerationConfig) -> bool:
    """True when ``data_dir`` holds a complete set from this generator version and config."""
    try:
        info = json.loads((data_dir / INFO_FILE).read_text())
    except (OSError, ValueError):
        return False
    return (info.get("generator_version") == GENERATOR_VERSION and info.get("config") == asdict(config)
            and (data_dir / LABELS_FILE).is_file())


def ensure_generated(data_dir: Path, config: GenerationConfig, workers: int | None = None) -> bool:
    """Generate the set into ``data_dir`` unless it is already there; True when it generated."""
    if is_current(data_dir, config):
        return False
    _refuse_foreign_folder(data_dir)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned(data_dir)
    log.info("synthetic-tid: generating into %s (first use; under a minute)", data_dir)
    partial = _hidden_sibling(data_dir, "partial")
    try:
        generate_into(partial, config, workers)
        _swap_into_place(partial, data_dir, config)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return True


def _hidden_sibling(data_dir: Path, kind: str) -> Path:
    """A new hidden folder beside ``data_dir``, named by this process (so leftovers can be traced to it).
    Not tempfile.mkdtemp: its mode 0700 would make the renamed data dir private to its creator."""
    folder = data_dir.parent / f".{data_dir.name}.{os.getpid()}.{kind}-{secrets.token_hex(4)}"
    folder.mkdir()
    return folder


def _remove_abandoned(data_dir: Path) -> None:
    """Delete the partial and stale folders of generations whose process no longer runs (killed)."""
    for leftover in data_dir.parent.glob(f".{data_dir.name}.*"):
        pid = leftover.name[len(data_dir.name) + 2:].split(".", 1)[0]
        if leftover.is_dir() and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(leftover, ignore_errors=True)


def _refuse_foreign_folder(data_dir: Path) -> None:
    """Only an empty folder or an older synthetic-tid set may be replaced: never a user's own files."""
    if data_dir.is_dir() and any(data_dir.iterdir()) and not (data_dir / INFO_FILE).exists():
        raise DatasetError(
            f"synthetic-tid: data dir {data_dir} is not empty and holds no {INFO_FILE}, so it is not a "
            f"generated set and will not be overwritten; point --data-dir at an empty or new folder"
        )


def _swap_into_place(partial: Path, data_dir: Path, config: GenerationConfig) -> None:
    """Rename the finished set into place; an older set is moved aside first and deleted after."""
    stale = None
    if data_dir.exists():
        stale = _hidden_sibling(data_dir, "stale")
        data_dir.rename(stale / "old")
    try:
        partial.rename(data_dir)
    except OSError:
        if not is_current(data_dir, config):  # a concurrent generation won the race: keep its set
            raise
    finally:
        if stale is not None:
            shutil.rmtree(stale, ignore_errors=True)


# -- the dataset -----------------------------------------------------------------------------------------------
class SyntheticTID(Dataset):
    name = "synthetic-tid"
    task = "technical"
    score_values = SCORE_VALUES
    description = ("Bundled photos x 8 distortions x 5 levels, rated by a simulated panel; generated on first use "
                   "(a quick default for demos and tests, not a benchmark of real perception)")
    how_to_obtain = "It is generated on first use from images bundled with scikit-image and scikit-learn."
    label_strategies = ("votes",)
    options_help: ClassVar[dict[str, str]] = {
        "generation_seed": "seed of the distortions' noise and the simulated votes (default 0)",
        "n_sources": f"use only the first N source photos (default: all {len(SOURCES)})",
        "views_per_source": f"references cut from each source photo, 1..{len(VIEWS)} (default 3)",
    }

    def __init__(self, data_dir: str | Path | None = None, **kwargs: Any):
        super().__init__(data_dir, **kwargs)
        check_options(self)
        self.generation = GenerationConfig(
            generation_seed=int_option(self, "generation_seed", 0, minimum=0),
            n_sources=int_option(self, "n_sources", None, minimum=1),
            views_per_source=int_option(self, "views_per_source", 3, minimum=1),
        )
        if self.generation.views_per_source > len(VIEWS):
            raise DatasetError(f"dataset {self.name!r}: option views_per_source must be 1..{len(VIEWS)}")

    def ensure_generated(self, workers: int | None = None) -> bool:
        """Generate the files unless they are there already; True when it generated."""
        return ensure_generated(self.data_dir, self.generation, workers)

    def load_labels(self) -> pd.DataFrame:
        self.ensure_generated()
        labels_file = self.require_file(LABELS_FILE)
        labels = pd.read_csv(labels_file)
        counts = labels[[f"c{k}" for k in range(1, 11)]].to_numpy()
        probabilities = votes_to_distribution(counts, row_names=[f"{labels_file}: {i}" for i in labels["image"]])
        frame = pd.DataFrame({
            "image_id": [Path(image).stem for image in labels["image"]],
            "path": [str(self.image_path(image, str(labels_file))) for image in labels["image"]],
            "group": labels["source"], "mean": labels["mean"], "std": labels["std"],
        })
        frame[probability_columns(len(SCORE_VALUES))] = probabilities
        return pd.concat([frame, labels[["reference", "distortion", "level", "quality"]]], axis=1)

    def assign_splits(self, labels: pd.DataFrame) -> tuple[pd.Series, str]:
        splits = split_by_group(labels["group"], test_fraction=TEST_FRACTION, seed=self.seed)
        return splits, f"seeded {TEST_FRACTION:.0%} test / 5% val by source photo (seed {self.seed})"

    def config(self) -> dict[str, Any]:
        """With the whole generation config and generator version: they decide every label."""
        return {**super().config(), **asdict(self.generation), "generator_version": GENERATOR_VERSION}


@hookimpl
def register_datasets(register):
    register(SyntheticTID)
