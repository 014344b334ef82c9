"""synthetic-tid: generated once, deterministic, cached, atomic, and labelled sensibly.

The session fixture ``synthetic_tid`` (tests/conftest.py) is a small set at full size through the Dataset
class; the tests of generation mechanics call the generator directly on 64-pixel images to stay quick.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nimabench.datasets import synthetic_tid as generator
from nimabench.datasets.synthetic_tid import INFO_FILE, LABELS_FILE, GenerationConfig, SyntheticTID
from nimabench.errors import DatasetError
from nimabench.labels import distribution_moments

IMAGES_PER_REFERENCE = len(generator.DISTORTIONS) * generator.N_LEVELS + 1  # + the pristine reference
TINY = GenerationConfig(n_sources=1, views_per_source=1, image_size=64)
NOISY_IMAGE = "distorted_images/astronaut-1_gaussian_noise_3.png"


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


# -- the set and its labels ------------------------------------------------------------------------------------
def test_every_source_photo_loads_offline_so_the_default_set_is_large_enough():
    loaded = [name for name in generator.SOURCES if generator.load_source(name) is not None]
    assert len(loaded) == len(generator.SOURCES) == 17
    assert len(loaded) * 3 * IMAGES_PER_REFERENCE >= 300  # default: 3 views per photo


def test_set_has_every_distortion_at_every_level(synthetic_tid):
    frame = synthetic_tid.manifest().frame
    assert len(frame) == 4 * IMAGES_PER_REFERENCE
    distorted = frame[frame["distortion"] != "none"]
    levels = distorted.groupby("distortion")["level"].apply(lambda s: sorted(set(s)))
    assert len(levels) >= 6
    assert all(found == [1, 2, 3, 4, 5] for found in levels)
    assert frame["image_id"].is_unique
    assert all(Path(path).is_file() for path in frame["path"])


def test_images_are_256_pixel_rgb_pngs(synthetic_tid):
    path = synthetic_tid.manifest().frame["path"].iloc[-1]
    with Image.open(path) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "RGB", (256, 256))


def test_files_follow_the_tid_like_layout(synthetic_tid):
    data_dir = synthetic_tid.data_dir
    assert (data_dir / "reference_images").is_dir() and (data_dir / "distorted_images").is_dir()
    header = (data_dir / LABELS_FILE).read_text().splitlines()[0].split(",")
    assert header[:5] == ["image", "reference", "source", "distortion", "level"]
    assert header[5:17] == [f"c{k}" for k in range(1, 11)] + ["mean", "std"]
    info = json.loads((data_dir / INFO_FILE).read_text())
    assert info["generator_version"] == generator.GENERATOR_VERSION
    assert info["rater_model"]["n_raters"] == generator.RATER_MODEL.n_raters
    assert info["n_images"] == len(synthetic_tid.manifest().frame)


def test_labels_are_the_vote_distributions_of_the_whole_panel(synthetic_tid):
    manifest = synthetic_tid.manifest()
    p = manifest.distributions()
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    counts = p * generator.RATER_MODEL.n_raters
    np.testing.assert_allclose(counts, np.rint(counts), atol=1e-9)
    mean, std = distribution_moments(p, manifest.score_values)
    np.testing.assert_allclose(manifest.frame["mean"], mean, atol=1e-5)
    np.testing.assert_allclose(manifest.frame["std"], std, atol=1e-5)


def test_quality_falls_with_level_for_every_distortion(synthetic_tid):
    frame = synthetic_tid.manifest().frame
    pristine = frame.loc[frame["distortion"] == "none", "mean"].mean()
    for distortion, rows in frame[frame["distortion"] != "none"].groupby("distortion"):
        by_level = rows.groupby("level")["mean"].mean().to_numpy()
        assert np.all(np.diff(by_level) < 0), f"{distortion}: mean score by level {by_level}"
        assert by_level[0] < pristine, distortion
    assert frame["mean"].min() < 3 and pristine > 8  # the labels use most of the 1..10 scale


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_groups_never_straddle_splits(synthetic_tid, seed):
    manifest = SyntheticTID(synthetic_tid.data_dir, seed=seed, **synthetic_tid.options).manifest()
    assert manifest.frame.groupby("group")["split"].nunique().max() == 1
    assert all(count > 0 for count in manifest.counts().values())
    n_groups = manifest.frame["group"].nunique()
    assert manifest.split("test")["group"].nunique() == round(generator.TEST_FRACTION * n_groups)


def test_second_use_reads_files_only(synthetic_tid, monkeypatch):
    labels = synthetic_tid.data_dir / LABELS_FILE
    before = labels.stat().st_mtime_ns

    def fail(*args, **kwargs):
        raise AssertionError("regenerated a set that was already there")

    monkeypatch.setattr(generator, "generate_into", fail)
    again = SyntheticTID(synthetic_tid.data_dir, **synthetic_tid.options)
    assert again.ensure_generated() is False
    assert len(again.manifest().frame) == 4 * IMAGES_PER_REFERENCE
    assert labels.stat().st_mtime_ns == before


# -- generation mechanics --------------------------------------------------------------------------------------
def test_generation_is_deterministic_for_its_seed(tmp_path):
    generator.ensure_generated(tmp_path / "a", TINY, workers=2)
    generator.ensure_generated(tmp_path / "b", TINY, workers=1)  # the worker count must not matter
    assert (tmp_path / "a" / LABELS_FILE).read_bytes() == (tmp_path / "b" / LABELS_FILE).read_bytes()
    assert np.array_equal(pixels(tmp_path / "a" / NOISY_IMAGE), pixels(tmp_path / "b" / NOISY_IMAGE))

    other_seed = replace(TINY, generation_seed=1)
    generator.ensure_generated(tmp_path / "c", other_seed)
    assert not np.array_equal(pixels(tmp_path / "a" / NOISY_IMAGE), pixels(tmp_path / "c" / NOISY_IMAGE))
    assert (tmp_path / "a" / LABELS_FILE).read_bytes() != (tmp_path / "c" / LABELS_FILE).read_bytes()


def test_regenerates_when_the_generator_version_changes(tmp_path):
    data_dir = tmp_path / "data"
    assert generator.ensure_generated(data_dir, TINY) is True
    info = json.loads((data_dir / INFO_FILE).read_text())
    info["generator_version"] -= 1  # as if an older generator had written the set
    (data_dir / INFO_FILE).write_text(json.dumps(info))
    stale_marker = data_dir / "distorted_images" / "stale-marker.png"
    stale_marker.write_bytes(b"")
    assert generator.ensure_generated(data_dir, TINY) is True
    assert json.loads((data_dir / INFO_FILE).read_text())["generator_version"] == generator.GENERATOR_VERSION
    assert not stale_marker.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["data"]  # no partial or stale folder left behind


def test_regenerates_when_the_generation_config_changes(tmp_path):
    data_dir = tmp_path / "data"
    generator.ensure_generated(data_dir, TINY)
    two_views = replace(TINY, views_per_source=2)
    assert not generator.is_current(data_dir, two_views)
    assert generator.ensure_generated(data_dir, two_views) is True
    labels = (data_dir / LABELS_FILE).read_text().splitlines()
    assert len(labels) - 1 == 2 * IMAGES_PER_REFERENCE
    assert {line.split(",")[1] for line in labels[1:]} == {"astronaut-1", "astronaut-2"}  # two crops ...
    assert {line.split(",")[2] for line in labels[1:]} == {"astronaut"}  # ... of one source photo (the group)


def test_interrupted_generation_leaves_no_half_set(tmp_path, monkeypatch):
    real_render = generator.render_reference
    calls = []

    def render_then_die(job):
        calls.append(job)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_render(job)

    monkeypatch.setattr(generator, "render_reference", render_then_die)
    with pytest.raises(KeyboardInterrupt):
        generator.ensure_generated(tmp_path / "data", GenerationConfig(n_sources=2, views_per_source=1,
                                                                       image_size=64), workers=1)
    assert list(tmp_path.iterdir()) == []


def test_leftovers_of_killed_generations_are_removed(tmp_path):
    killed = tmp_path / ".data.999999999.partial-x1y2"  # no process has that id
    (killed / "distorted_images").mkdir(parents=True)
    generator.ensure_generated(tmp_path / "data", TINY)
    assert [p.name for p in tmp_path.iterdir()] == ["data"]


def test_refuses_to_overwrite_a_folder_it_did_not_generate(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(DatasetError, match="holds no synthetic_tid.json"):
        SyntheticTID(tmp_path / "data", n_sources=1).manifest()
    assert (tmp_path / "data" / "holiday.jpg").read_bytes() == b"precious"


# -- the dataset class -----------------------------------------------------------------------------------------
def test_bad_options_are_named():
    with pytest.raises(DatasetError, match="n_source"):
        SyntheticTID("/nonexistent", n_source=3)
    with pytest.raises(DatasetError, match="views_per_source"):
        SyntheticTID("/nonexistent", views_per_source=9)
    with pytest.raises(DatasetError, match="generation_seed"):
        SyntheticTID("/nonexistent", generation_seed="abc")


def test_config_records_the_generation(synthetic_tid):
    config = synthetic_tid.config()
    assert config["generator_version"] == generator.GENERATOR_VERSION
    assert (config["n_sources"], config["views_per_source"], config["generation_seed"]) == (4, 1, 0)
    assert SyntheticTID("/x", n_sources="8").config()["n_sources"] == 8  # strings from the CLI are converted


def test_default_data_dir_follows_nimabench_data(monkeypatch, tmp_path):
    monkeypatch.setenv("NIMABENCH_DATA", str(tmp_path))
    assert SyntheticTID().data_dir == tmp_path / "synthetic-tid"


def test_registers_itself():
    registered = []
    generator.register_datasets(registered.append)
    assert registered == [SyntheticTID]
    assert (SyntheticTID.name, SyntheticTID.task, SyntheticTID.score_values) == (
        "synthetic-tid", "technical", tuple(float(k) for k in range(1, 11)))
