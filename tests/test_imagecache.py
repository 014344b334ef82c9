"""The image cache (decode once, resize, memory-map) and the batch helpers on top of it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from nimabench import imagecache
from nimabench.batches import center_crop, image_batches, iterate_batches, nima_train_augment, random_crop, random_flip
from nimabench.dataset import Manifest, probability_columns
from nimabench.imagecache import (
    ImageCacheError,
    ResizePolicy,
    build_image_cache,
    cache_path,
    load_resized,
    sidecar_path,
)

SIZE = 32


def noise_image(seed: int, width: int, height: int, mode: str = "RGB") -> Image.Image:
    channels = {"RGB": 3, "L": 1, "RGBA": 4}[mode]
    values = np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)
    return Image.fromarray(values.squeeze(-1) if channels == 1 else values, mode)


def make_manifest(folder: Path, files: dict[str, Path]) -> Manifest:
    frame = pd.DataFrame({"image_id": list(files), "path": [str(p) for p in files.values()], "split": "train",
                          "group": list(files), "mean": 5.5, "std": 1.0})
    frame[probability_columns(10)] = 0.1
    return Manifest(dataset="tiny", task="technical", score_values=np.arange(1.0, 11.0), frame=frame,
                    label_strategy="votes", split_policy="all train", data_dir=folder)


@pytest.fixture
def tiny(tmp_path) -> Manifest:
    """A PNG, a large JPEG (draft mode applies), a greyscale and an RGBA PNG, and a corrupt JPEG."""
    folder = tmp_path / "images"
    folder.mkdir()
    files = {"rgb": folder / "rgb.png", "large": folder / "large.jpg", "grey": folder / "grey.png",
             "broken": folder / "broken.jpg", "alpha": folder / "alpha.png"}
    noise_image(0, 48, 40).save(files["rgb"])
    noise_image(1, 400, 300).save(files["large"], quality=90)
    noise_image(2, 20, 50, "L").save(files["grey"])
    noise_image(3, 30, 30, "RGBA").save(files["alpha"])
    valid_jpeg = files["large"].read_bytes()
    files["broken"].write_bytes(valid_jpeg[: len(valid_jpeg) // 3])  # a readable header, then nothing
    return make_manifest(folder, files)


def pillow_reference(path: Path, size: int) -> np.ndarray:
    """What the cache must hold, written out with Pillow alone."""
    with Image.open(path) as image:
        if image.format == "JPEG":
            image.draft("RGB", (size, size))
        return np.asarray(image.convert("RGB").resize((size, size), Image.Resampling.BICUBIC))


# -- the cache -------------------------------------------------------------------------------------------------
def test_cache_holds_what_pillow_decodes(tiny, tmp_path):
    cached = build_image_cache(tiny, ResizePolicy(SIZE), cache_dir=tmp_path / "cache", progress=False)
    assert cached.array.shape == (4, SIZE, SIZE, 3) and cached.array.dtype == np.uint8
    assert cached.image_ids == ["rgb", "large", "grey", "alpha"]
    for image_id, path in zip(tiny.frame["image_id"], tiny.frame["path"], strict=True):
        if image_id != "broken":
            np.testing.assert_array_equal(cached.images([image_id])[0], pillow_reference(Path(path), SIZE))


def test_large_jpegs_decode_in_draft_mode(tiny):
    """The 400x300 JPEG: for 32 pixels the decoder scales it by 1/8 itself (to 50x38) before the resize."""
    path = Path(tiny.frame.loc[1, "path"])
    with Image.open(path) as image:
        image.draft("RGB", (SIZE, SIZE))
        assert image.size == (50, 38)
        from_draft = np.asarray(image.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BICUBIC))
    with Image.open(path) as image:
        from_full = np.asarray(image.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BICUBIC))
    out = load_resized(path, ResizePolicy(SIZE))
    np.testing.assert_array_equal(out, from_draft)
    assert not np.array_equal(out, from_full)


def test_failed_images_are_skipped_reported_and_counted(tiny, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="nimabench.imagecache"):
        cached = build_image_cache(tiny, ResizePolicy(SIZE), cache_dir=tmp_path / "cache", progress=False)
    assert [(f.image_id, Path(f.path).name) for f in cached.failed] == [("broken", "broken.jpg")]
    assert "broken.jpg" in caplog.text
    assert len(cached) == 4 and "broken" not in cached.image_ids
    with pytest.raises(ImageCacheError, match="failed to decode"):
        cached.rows(["broken"])
    reopened = build_image_cache(tiny, ResizePolicy(SIZE), cache_dir=tmp_path / "cache", progress=False)
    assert reopened.failed == cached.failed  # kept in the sidecar


def test_second_build_reuses_the_file_without_decoding(tiny, tmp_path, monkeypatch):
    first = build_image_cache(tiny, ResizePolicy(SIZE), cache_dir=tmp_path / "cache", progress=False)
    mtime = first.path.stat().st_mtime_ns

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(imagecache, "load_resized", no_decoding)
    second = build_image_cache(tiny, ResizePolicy(SIZE), cache_dir=tmp_path / "cache", progress=False)
    assert second.path == first.path and second.path.stat().st_mtime_ns == mtime
    assert isinstance(second.array, np.memmap) and not second.array.flags.writeable
    np.testing.assert_array_equal(second.array, first.array)


def test_size_and_policy_each_get_their_own_file(tiny, tmp_path):
    policies = [ResizePolicy(SIZE), ResizePolicy(16), ResizePolicy(SIZE, "pad"), ResizePolicy(SIZE, "center-crop"),
                ResizePolicy(SIZE, resample="lanczos")]
    paths = {cache_path(tiny, policy, tmp_path) for policy in policies}
    assert len(paths) == len(policies)
    small = build_image_cache(tiny, ResizePolicy(16), cache_dir=tmp_path, progress=False)
    assert small.array.shape[1:] == (16, 16, 3)


def test_an_unfinished_build_is_not_mistaken_for_a_cache(tiny, tmp_path):
    policy = ResizePolicy(SIZE)
    path = cache_path(tiny, policy, tmp_path)
    np.save(path, np.zeros((4, SIZE, SIZE, 3), dtype=np.uint8))  # as if killed before the sidecar was written
    cached = build_image_cache(tiny, policy, cache_dir=tmp_path, progress=False)
    assert cached.array.any()
    assert json.loads(sidecar_path(path).read_text())["image_ids"] == cached.image_ids


def test_partials_of_dead_builds_are_removed(tiny, tmp_path):
    policy = ResizePolicy(SIZE)
    path = cache_path(tiny, policy, tmp_path)
    abandoned = path.with_name(f".{path.stem}.999999999.partial.npy")  # no such process
    abandoned.write_bytes(b"half")
    build_image_cache(tiny, policy, cache_dir=tmp_path, progress=False)
    assert not abandoned.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["images", path.name, sidecar_path(path).name])


def test_process_executor_gives_the_same_pixels(tiny, tmp_path):
    threads = build_image_cache(tiny, ResizePolicy(SIZE), cache_dir=tmp_path / "t", progress=False)
    processes = build_image_cache(tiny, ResizePolicy(SIZE), cache_dir=tmp_path / "p", progress=False,
                                  executor="process", workers=2)
    np.testing.assert_array_equal(threads.array, processes.array)


def test_cache_dir_defaults_under_the_cache_root(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("NIMABENCH_CACHE", str(tmp_path))
    assert cache_path(tiny, ResizePolicy()).parent == tmp_path / "images"


# -- resize policies -------------------------------------------------------------------------------------------
def stripes(path: Path) -> Path:
    """60x20: red, green, blue vertical thirds."""
    pixels = np.zeros((20, 60, 3), dtype=np.uint8)
    for third in range(3):
        pixels[:, 20 * third:20 * (third + 1), third] = 255
    Image.fromarray(pixels).save(path)
    return path


def test_center_crop_keeps_the_middle(tmp_path):
    out = load_resized(stripes(tmp_path / "s.png"), ResizePolicy(20, "center-crop"))
    assert out.shape == (20, 20, 3)
    assert (out[:, 2:-2, 1] == 255).all() and (out[:, 2:-2, [0, 2]] == 0).all()  # green only


def test_pad_keeps_everything_and_pads_with_black(tmp_path):
    out = load_resized(stripes(tmp_path / "s.png"), ResizePolicy(60, "pad"))
    assert out.shape == (60, 60, 3)
    assert (out[:18] == 0).all() and (out[-18:] == 0).all()  # 20 rows of image, centred
    assert (out[22:38, 2:18, 0] == 255).all() and (out[22:38, -18:-2, 2] == 255).all()


def test_square_ignores_the_aspect_ratio(tmp_path):
    out = load_resized(stripes(tmp_path / "s.png"), ResizePolicy(30, "square"))
    assert out.shape == (30, 30, 3)
    assert (out[:, 1:8, 0] == 255).all() and (out[:, -8:-1, 2] == 255).all()


def test_exif_orientation_is_applied(tmp_path):
    pixels = np.zeros((32, 64, 3), dtype=np.uint8)
    pixels[:, :32] = 255  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(pixels).save(tmp_path / "turned.png", exif=exif)
    out = load_resized(tmp_path / "turned.png", ResizePolicy(32, "pad"))
    assert (out[:, 8:24][:14] == 255).all() and (out[:, 8:24][-14:] == 0).all()  # upright: white on top


def test_bad_policies_name_the_option():
    with pytest.raises(ImageCacheError, match="resize mode 'stretch'"):
        ResizePolicy(256, "stretch")
    with pytest.raises(ImageCacheError, match="resample filter"):
        ResizePolicy(256, resample="cubic")
    with pytest.raises(ImageCacheError, match="size"):
        ResizePolicy(0)


# -- batches ---------------------------------------------------------------------------------------------------
def test_batches_cover_every_index_once():
    batches = list(iterate_batches(10, 3, shuffle=True, seed=0))
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    assert sorted(np.concatenate(batches)) == list(range(10))
    assert [len(b) for b in iterate_batches(10, 3, shuffle=True, drop_last=True)] == [3, 3, 3]
    subset = np.array([7, 2, 9])
    assert sorted(np.concatenate(list(iterate_batches(subset, 2, shuffle=True)))) == [2, 7, 9]
    assert np.concatenate(list(iterate_batches(subset, 2, shuffle=False))).tolist() == [7, 2, 9]


def test_shuffling_is_seeded_per_epoch():
    def order(seed, epoch):
        return np.concatenate(list(iterate_batches(50, 8, shuffle=True, seed=seed, epoch=epoch)))

    np.testing.assert_array_equal(order(0, 3), order(0, 3))
    assert not np.array_equal(order(0, 0), order(0, 1))
    assert not np.array_equal(order(0, 0), order(1, 0))


def test_image_batches_pair_rows_with_their_pixels_and_repeat_per_seed():
    array = np.random.default_rng(0).integers(0, 256, (20, 8, 8, 3), dtype=np.uint8)
    for rows, batch in image_batches(array, 6, rows=np.arange(5, 20), shuffle=True, seed=1):
        np.testing.assert_array_equal(batch, array[rows])
        assert rows.min() >= 5

    def augmented(epoch):
        return [b for _, b in image_batches(array, 6, shuffle=True, seed=1, epoch=epoch,
                                            augment=nima_train_augment(6))]

    first, again, other = augmented(0), augmented(0), augmented(1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert first[0].shape == (6, 6, 6, 3)
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def coordinates(n: int, size: int) -> np.ndarray:
    """Each pixel holds (its row, its column, its image's index): a crop shows where it came from."""
    rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    grid = np.stack([rows, cols, np.zeros_like(rows)], axis=-1)
    batch = np.repeat(grid[None], n, axis=0).astype(np.uint8)
    batch[..., 2] = np.arange(n)[:, None, None]
    return batch


def test_random_crop_takes_a_window_at_its_own_offset_per_image():
    batch = coordinates(16, 40)
    crops = random_crop(batch, 24, np.random.default_rng(0))
    assert crops.shape == (16, 24, 24, 3)
    tops, lefts = crops[:, 0, 0, 0], crops[:, 0, 0, 1]
    for i, (top, left) in enumerate(zip(tops, lefts, strict=True)):
        np.testing.assert_array_equal(crops[i], batch[i, top:top + 24, left:left + 24])
    assert len(set(zip(tops.tolist(), lefts.tolist(), strict=True))) > 8
    assert tops.max() <= 16 and lefts.max() <= 16


def test_center_crop_is_the_middle():
    crops = center_crop(coordinates(2, 10), 4)
    assert crops.shape == (2, 4, 4, 3)
    assert (crops[0, 0, 0, 0], crops[0, 0, 0, 1]) == (3, 3)
    with pytest.raises(ValueError, match="does not fit"):
        center_crop(coordinates(1, 10), 11)


def test_random_flip_mirrors_some_images_and_leaves_the_input_alone():
    batch = coordinates(64, 6)
    original = batch.copy()
    flipped = random_flip(batch, np.random.default_rng(0))
    np.testing.assert_array_equal(batch, original)
    mirrored = [np.array_equal(flipped[i], batch[i, :, ::-1]) for i in range(64)]
    unchanged = [np.array_equal(flipped[i], batch[i]) for i in range(64)]
    assert all(m or u for m, u in zip(mirrored, unchanged, strict=True))
    assert 16 < sum(mirrored) < 48
    assert random_flip(batch, np.random.default_rng(0), p=0.0).tolist() == batch.tolist()
    np.testing.assert_array_equal(random_flip(batch, np.random.default_rng(0), p=1.0), batch[:, :, ::-1])
