from pathlib import Path

import numpy as np
import pytest

from nimabench.datasets import tid2013
from nimabench.datasets.tid2013 import TID2013
from nimabench.errors import DatasetError
from nimabench.labels import distribution_moments

SCORES = np.arange(10.0)
NAMES = [f"i{ref:02d}_{kind:02d}_{level}.bmp" for ref in range(1, 7) for kind in (1, 2) for level in (1, 2)]
MOS = np.round(np.linspace(0.8, 7.4, len(NAMES)), 5)
STD = np.round(np.linspace(0.6, 1.3, len(NAMES)), 5)
MISSING, CORRUPT = "i04_01_1.bmp", "i04_01_2.bmp"
ON_DISK = {"i05_01_1.bmp": "i05_01_1.BMP", "i06_02_2.bmp": "I06_02_2.bmp"}  # case differs, as in some copies


@pytest.fixture
def tid_dir(tmp_path, write_image, write_corrupt):
    # The authors' files use Windows line endings.
    lines = [f"{mos:.5f} {name}" for mos, name in zip(MOS, NAMES, strict=True)]
    (tmp_path / "mos_with_names.txt").write_bytes(("\r\n".join(lines) + "\r\n").encode())
    (tmp_path / "mos_std.txt").write_bytes(("\r\n".join(f"{s:.5f}" for s in STD) + "\r\n").encode())
    for i, name in enumerate(NAMES):
        path = tmp_path / "distorted_images" / ON_DISK.get(name, name)
        if name == CORRUPT:
            write_corrupt(path)
        elif name != MISSING:
            write_image(path, shade=i * 10)
    return tmp_path


def replace_line(path: Path, line: int, text: str) -> None:
    lines = path.read_text().splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")


def test_means_hit_the_mos_and_stds_the_std(tid_dir, check_manifest):
    manifest = TID2013(tid_dir).manifest()
    check_manifest(manifest)
    assert manifest.label_strategy == "maxent-mean-std"
    assert list(manifest.score_values) == list(range(10))
    frame = manifest.frame.set_index("image_id")
    expected_mos = dict(zip((Path(n).stem for n in NAMES), MOS, strict=True))
    expected_std = dict(zip((Path(n).stem for n in NAMES), STD, strict=True))
    mean, std = distribution_moments(manifest.distributions(), SCORES)
    for image_id, m, s in zip(frame.index, mean, std, strict=True):
        assert m == pytest.approx(expected_mos[image_id], abs=1e-6)
        assert s == pytest.approx(expected_std[image_id], abs=1e-6)
        assert frame.loc[image_id, "mean"] == pytest.approx(expected_mos[image_id], abs=1e-12)


@pytest.mark.parametrize("strategy", ["maxent-mean", "gaussian"])
def test_other_strategies_keep_the_published_moments(tid_dir, strategy):
    manifest = TID2013(tid_dir, label_strategy=strategy).manifest(check_images=False)
    np.testing.assert_allclose(manifest.frame["mean"], MOS)
    np.testing.assert_allclose(manifest.frame["std"], STD)
    if strategy == "maxent-mean":
        np.testing.assert_allclose(distribution_moments(manifest.distributions(), SCORES)[0], MOS, atol=1e-6)


def test_references_01_to_03_are_the_test_split(tid_dir):
    manifest = TID2013(tid_dir).manifest(check_images=False)
    assert set(manifest.split("test")["group"]) == {"I01", "I02", "I03"}
    assert manifest.counts() == {"train": 8, "val": 4, "test": 12}  # one of the three other references is val
    assert manifest.frame.loc[manifest.frame["image_id"] == "i07_01_1"].empty


def test_file_names_are_resolved_whatever_their_case(tid_dir):
    manifest = TID2013(tid_dir).manifest()
    paths = dict(zip(manifest.frame["image_id"], manifest.frame["path"], strict=True))
    assert paths["i05_01_1"].endswith("distorted_images/i05_01_1.BMP")
    assert paths["i06_02_2"].endswith("distorted_images/I06_02_2.bmp")
    assert {Path(skip.path).name: skip.reason[:7] for skip in manifest.skipped} == {
        MISSING: "missing", CORRUPT: "corrupt"}
    assert len(manifest.frame) == len(NAMES) - 2


def test_folds_partition_the_references(tid_dir):
    test_groups = []
    for fold in range(3):
        manifest = TID2013(tid_dir, folds="3", fold=fold).manifest(check_images=False)
        test_groups.append(set(manifest.split("test")["group"]))
        assert (manifest.frame.groupby("group")["split"].nunique() == 1).all()
        assert "fold" in manifest.split_policy
    assert set().union(*test_groups) == {f"I{ref:02d}" for ref in range(1, 7)}
    assert sum(len(groups) for groups in test_groups) == 6
    assert TID2013(tid_dir, folds="3", fold=0).config()["folds"] == 3  # converted, so trial ids agree


@pytest.mark.parametrize(("options", "expected"), [
    ({"fold": 1}, "folds and fold go together"),
    ({"folds": 3, "fold": 3}, "fold=3 must be 0..2"),
    ({"folds": "many", "fold": 0}, "option folds='many' must be an integer"),
    ({"fodls": 3}, "did you mean 'folds'"),
])
def test_bad_options_are_named(tid_dir, options, expected):
    with pytest.raises(DatasetError, match=expected):
        TID2013(tid_dir, **options)


def test_std_file_of_another_length_names_both_files(tid_dir):
    (tid_dir / "mos_std.txt").write_text("\n".join(f"{s:.5f}" for s in STD[:-1]) + "\n")
    with pytest.raises(DatasetError) as error:
        TID2013(tid_dir).manifest()
    assert "mos_with_names.txt" in str(error.value) and "mos_std.txt" in str(error.value)
    assert f"{len(NAMES)} images" in str(error.value) and f"{len(NAMES) - 1} stds" in str(error.value)


@pytest.mark.parametrize(("file", "line", "text", "expected"), [
    ("mos_with_names.txt", 3, "5.5", "mos_with_names.txt, line 3: expected 2 fields"),
    ("mos_with_names.txt", 4, "abc i01_02_2.bmp", "mos_with_names.txt, line 4: mos must be a finite number"),
    ("mos_with_names.txt", 5, "4.1 image7.bmp", "mos_with_names.txt, line 5: file name 'image7.bmp'"),
    ("mos_with_names.txt", 6, "9.5 i02_01_2.bmp", "mos_with_names.txt, line 6: mos 9.5 is outside 0..9"),
    ("mos_with_names.txt", 7, "4.0 i01_01_1.bmp", "'i01_01_1.bmp' is listed twice: lines 1 and 7"),
    ("mos_std.txt", 2, "x", "mos_std.txt, line 2: std must be a finite number, found 'x'"),
    ("mos_std.txt", 8, "-0.5", "mos_std.txt, line 8: std -0.5 is outside"),
])
def test_a_malformed_line_names_the_file_and_line(tid_dir, file, line, text, expected):
    replace_line(tid_dir / file, line, text)
    with pytest.raises(DatasetError, match=expected):
        TID2013(tid_dir).manifest(check_images=False)


@pytest.mark.parametrize("missing", ["mos_with_names.txt", "mos_std.txt", "distorted_images"])
def test_missing_files_are_named_with_where_to_get_them(tid_dir, missing):
    target = tid_dir / missing
    if target.is_dir():
        for child in target.iterdir():
            child.unlink()
        target.rmdir()
    else:
        target.unlink()
    with pytest.raises(DatasetError) as error:
        TID2013(tid_dir).manifest()
    assert f"expected {missing} at {target}" in str(error.value)
    assert "ponomarenko.info/tid2013" in str(error.value)


def test_the_plugin_hook_registers_the_class():
    registered = []
    tid2013.register_datasets(registered.append)
    assert registered == [TID2013]
