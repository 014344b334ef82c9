import numpy as np
import pytest
import scipy.io

from nimabench.datasets import livec
from nimabench.datasets.livec import LIVEChallenge
from nimabench.errors import DatasetError
from nimabench.labels import distribution_moments

TRAINING = [f"t{k}.bmp" for k in range(1, 8)]
PHOTOS = [f"{k}.bmp" for k in range(3, 9)] + [f"{k}.JPG" for k in range(100, 106)]
NAMES = TRAINING + PHOTOS
MOS = np.round(np.linspace(12.5, 88.0, len(NAMES)), 4)
STD = np.round(np.linspace(10.0, 18.0, len(NAMES)), 4)
CORRUPT, MISSING = "4.bmp", "101.JPG"


def write_mat(path, variable, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(path, {variable: value})


def names_cell(names) -> np.ndarray:
    cell = np.empty((len(names), 1), dtype=object)  # saved as a MATLAB cell array, as the authors' file is
    for i, name in enumerate(names):
        cell[i, 0] = name
    return cell


@pytest.fixture
def livec_dir(tmp_path, write_image, write_corrupt):
    write_mat(tmp_path / "Data/AllImages_release.mat", "AllImages_release", names_cell(NAMES))
    write_mat(tmp_path / "Data/AllMOS_release.mat", "AllMOS_release", MOS[None, :])
    write_mat(tmp_path / "Data/AllStdDev_release.mat", "AllStdDev_release", STD[None, :])
    for name in TRAINING:
        write_image(tmp_path / "Images/trainingImages" / name)
    for i, name in enumerate(PHOTOS):
        if name == CORRUPT:
            write_corrupt(tmp_path / "Images" / name)
        elif name != MISSING:
            write_image(tmp_path / "Images" / name, shade=i * 20)
    return tmp_path


def test_training_images_are_dropped_and_scores_mapped(livec_dir, check_manifest):
    manifest = LIVEChallenge(livec_dir).manifest()
    check_manifest(manifest)
    kept = [i for i, name in enumerate(NAMES) if i >= 7 and name not in (CORRUPT, MISSING)]
    assert manifest.frame["image_id"].tolist() == [NAMES[i].rsplit(".", 1)[0] for i in kept]
    np.testing.assert_allclose(manifest.frame["mean"], 1 + 9 * MOS[kept] / 100)
    np.testing.assert_allclose(manifest.frame["std"], 9 * STD[kept] / 100)
    mean, std = distribution_moments(manifest.distributions(), np.arange(1.0, 11.0))
    np.testing.assert_allclose(mean, 1 + 9 * MOS[kept] / 100, atol=1e-6)
    np.testing.assert_allclose(std, 9 * STD[kept] / 100, atol=1e-6)
    assert sorted(skip.reason[:7] for skip in manifest.skipped) == ["corrupt", "missing"]


def test_training_images_can_be_kept(livec_dir):
    manifest = LIVEChallenge(livec_dir, keep_training_images="true").manifest()
    assert len(manifest.frame) == len(NAMES) - 2
    assert manifest.frame["path"].iloc[0].endswith("Images/trainingImages/t1.bmp")


def test_the_split_is_a_seeded_80_10_10(livec_dir):
    manifest = LIVEChallenge(livec_dir).manifest(check_images=False)
    assert manifest.counts() == {"train": 10, "val": 1, "test": 1}


def test_files_of_different_lengths_are_named(livec_dir):
    write_mat(livec_dir / "Data/AllStdDev_release.mat", "AllStdDev_release", STD[None, :-1])
    with pytest.raises(DatasetError) as error:
        LIVEChallenge(livec_dir).manifest()
    message = str(error.value)
    assert "AllImages_release.mat" in message and "AllStdDev_release.mat" in message
    assert f"{len(NAMES)}, {len(NAMES)} and {len(NAMES) - 1} entries" in message


def test_bad_entries_are_named(livec_dir):
    bad_mos = MOS.copy()
    bad_mos[8] = np.nan
    write_mat(livec_dir / "Data/AllMOS_release.mat", "AllMOS_release", bad_mos[None, :])
    with pytest.raises(DatasetError, match=r"AllMOS_release.mat, entry 9: AllMOS_release nan"):
        LIVEChallenge(livec_dir).manifest()
    cell = names_cell(NAMES)
    cell[10, 0] = np.array([1.0, 2.0])
    write_mat(livec_dir / "Data/AllImages_release.mat", "AllImages_release", cell)
    with pytest.raises(DatasetError, match=r"AllImages_release.mat, entry 11: expected a file name"):
        LIVEChallenge(livec_dir).manifest()


def test_a_missing_variable_or_a_damaged_file_is_named(livec_dir):
    write_mat(livec_dir / "Data/AllMOS_release.mat", "mos", MOS[None, :])
    with pytest.raises(DatasetError, match=r"AllMOS_release.mat: no variable 'AllMOS_release' \(variables: mos\)"):
        LIVEChallenge(livec_dir).manifest()
    (livec_dir / "Data/AllMOS_release.mat").write_bytes(b"MATLAB? no")
    with pytest.raises(DatasetError, match=r"AllMOS_release.mat: cannot read the MATLAB file"):
        LIVEChallenge(livec_dir).manifest()


def test_a_name_leaving_the_data_dir_is_refused(livec_dir):
    write_mat(livec_dir / "Data/AllImages_release.mat", "AllImages_release",
              names_cell(NAMES[:9] + ["../../../etc/passwd"] + NAMES[10:]))
    with pytest.raises(DatasetError, match=r"AllImages_release.mat, entry 10: image path .* escapes"):
        LIVEChallenge(livec_dir).manifest()


def test_missing_files_say_what_and_where(tmp_path):
    with pytest.raises(DatasetError) as error:
        LIVEChallenge(tmp_path).manifest()
    assert f"expected Data/AllImages_release.mat at {tmp_path}" in str(error.value)
    assert "live.ece.utexas.edu/research/ChallengeDB" in str(error.value)


def test_the_plugin_hook_registers_the_class():
    registered = []
    livec.register_datasets(registered.append)
    assert registered == [LIVEChallenge]
