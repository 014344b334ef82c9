import csv

import numpy as np
import pytest

from nimabench.datasets import koniq10k
from nimabench.datasets.koniq10k import KonIQ10k
from nimabench.errors import DatasetError

N_IMAGES = 20
NAMES = [f"{1_000_000_000 + 7919 * i}.jpg" for i in range(N_IMAGES)]
HEADER = ["image_name", "c1", "c2", "c3", "c4", "c5", "c_total", "MOS", "SD", "MOS_zscore"]
SETS = ["training"] * 14 + ["validation"] * 2 + ["test"] * 4
VOTES = np.random.default_rng(1).integers(0, 40, size=(N_IMAGES, 5)) + np.array([0, 0, 1, 0, 0])


def rows(with_set: bool = False) -> list[list]:
    out = []
    for name, votes, split in zip(NAMES, VOTES, SETS, strict=True):
        p = votes / votes.sum()
        mos = float(p @ np.arange(1, 6))
        sd = float(np.sqrt(p @ (np.arange(1, 6) - mos) ** 2))
        out.append([name, *map(int, votes), int(votes.sum()), round(mos, 6), round(sd, 6),
                    round(mos * 20, 4), *([split] if with_set else [])])
    return out


def write_csv(path, header, body) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_NONNUMERIC)  # the authors quote every string
        writer.writerow(header)
        writer.writerows(body)


@pytest.fixture
def koniq_dir(tmp_path, write_image, write_corrupt):
    write_csv(tmp_path / "koniq10k_scores_and_distributions.csv", HEADER, rows())
    for i, name in enumerate(NAMES):
        if i == 3:
            write_corrupt(tmp_path / "1024x768" / name)
        elif i != 4:
            write_image(tmp_path / "1024x768" / name, shade=i)
    return tmp_path


def write_sets(koniq_dir) -> None:
    write_csv(koniq_dir / "koniq10k_distributions_sets.csv", [*HEADER, "set"], rows(with_set=True))


def test_labels_are_the_vote_fractions(koniq_dir, check_manifest):
    manifest = KonIQ10k(koniq_dir).manifest()
    check_manifest(manifest)
    assert len(manifest.frame) == N_IMAGES - 2 and len(manifest.skipped) == 2
    votes = {name.removesuffix(".jpg"): v for name, v in zip(NAMES, VOTES, strict=True)}
    for image_id, p in zip(manifest.frame["image_id"], manifest.distributions(), strict=True):
        np.testing.assert_allclose(p, votes[image_id] / votes[image_id].sum(), atol=1e-12)
    assert manifest.frame["path"].str.contains("/1024x768/").all()


def test_moment_strategies_use_mos_and_sd(koniq_dir):
    manifest = KonIQ10k(koniq_dir, label_strategy="maxent-mean-std").manifest(check_images=False)
    np.testing.assert_allclose(manifest.frame["mean"], [row[7] for row in rows()])
    np.testing.assert_allclose(manifest.distributions() @ np.arange(1, 6), [row[7] for row in rows()], atol=1e-6)


def test_the_official_sets_give_the_split(koniq_dir):
    write_sets(koniq_dir)
    manifest = KonIQ10k(koniq_dir).manifest(check_images=False)
    assert manifest.counts() == {"train": 14, "val": 2, "test": 4}
    assert set(manifest.split("test")["image_id"]) == {n.removesuffix(".jpg") for n in NAMES[16:]}
    assert "official" in manifest.split_policy
    assert KonIQ10k(koniq_dir, split="random").manifest(check_images=False).split_policy.startswith("seeded")


def test_the_sets_file_alone_is_enough(koniq_dir):
    write_sets(koniq_dir)
    (koniq_dir / "koniq10k_scores_and_distributions.csv").unlink()
    manifest = KonIQ10k(koniq_dir).manifest()
    assert len(manifest.frame) == N_IMAGES - 2
    assert manifest.counts()["val"] == 2


def test_without_sets_the_split_is_a_seeded_80_10_10(koniq_dir):
    manifest = KonIQ10k(koniq_dir, seed=5).manifest(check_images=False)
    assert manifest.counts() == {"train": 16, "val": 2, "test": 2}
    assert manifest.frame["split"].tolist() == KonIQ10k(koniq_dir, seed=5).manifest(
        check_images=False).frame["split"].tolist()


def test_sets_file_problems_are_named(koniq_dir):
    body = rows(with_set=True)
    body[5][-1] = "holdout"
    write_csv(koniq_dir / "koniq10k_distributions_sets.csv", [*HEADER, "set"], body)
    with pytest.raises(DatasetError, match=r"koniq10k_distributions_sets.csv, line 7: set 'holdout'"):
        KonIQ10k(koniq_dir).manifest(check_images=False)
    write_csv(koniq_dir / "koniq10k_distributions_sets.csv", [*HEADER, "set"], rows(with_set=True)[1:])
    with pytest.raises(DatasetError, match=f"gives no set for 1 image.*{NAMES[0]}"):
        KonIQ10k(koniq_dir).manifest(check_images=False)


def test_the_smaller_resolution_is_used_when_it_is_the_one_there(koniq_dir):
    (koniq_dir / "1024x768").rename(koniq_dir / "512x384")
    manifest = KonIQ10k(koniq_dir).manifest()
    assert manifest.frame["path"].str.contains("/512x384/").all()
    with pytest.raises(DatasetError, match="expected 1024x768 at"):
        KonIQ10k(koniq_dir, resolution="1024x768").manifest()
    with pytest.raises(DatasetError, match="resolution"):
        KonIQ10k(koniq_dir, resolution="640x480")


def test_no_image_folder_is_named(koniq_dir):
    for child in (koniq_dir / "1024x768").iterdir():
        child.unlink()
    (koniq_dir / "1024x768").rmdir()
    with pytest.raises(DatasetError, match="expected 1024x768 at .*database.mmsp-kn.de"):
        KonIQ10k(koniq_dir).manifest()


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda body: body[2].__setitem__(3, "x"), "line 4: c3 must be an integer, found 'x'"),
    (lambda body: body[4].append(7), "line 6: the line has more fields than the header"),
    (lambda body: body[6].__setitem__(7, 7.5), "line 8: MOS 7.5 is outside 1..5"),
    (lambda body: body[8].__setitem__(0, "../../secret.jpg"), "line 10: image path '1024x768/../../secret.jpg'"),
])
def test_a_malformed_line_names_the_file_and_line(koniq_dir, edit, expected):
    body = rows()
    edit(body)
    write_csv(koniq_dir / "koniq10k_scores_and_distributions.csv", HEADER, body)
    with pytest.raises(DatasetError) as error:
        KonIQ10k(koniq_dir).manifest(check_images=False)
    assert "koniq10k_scores_and_distributions.csv" in str(error.value)
    assert expected in str(error.value)


def test_a_missing_column_is_named(koniq_dir):
    write_csv(koniq_dir / "koniq10k_scores_and_distributions.csv", [h.replace("MOS", "mos") for h in HEADER],
              rows())
    with pytest.raises(DatasetError, match=r"line 1: missing column\(s\) MOS"):
        KonIQ10k(koniq_dir).manifest()


def test_missing_label_file_says_what_and_where(tmp_path):
    with pytest.raises(DatasetError) as error:
        KonIQ10k(tmp_path).manifest()
    assert f"expected koniq10k_scores_and_distributions.csv at {tmp_path}" in str(error.value)
    assert "https://database.mmsp-kn.de/koniq-10k-database.html" in str(error.value)


def test_the_plugin_hook_registers_the_class():
    registered = []
    koniq10k.register_datasets(registered.append)
    assert registered == [KonIQ10k]
