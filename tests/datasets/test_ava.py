import time

import numpy as np
import pytest

from nimabench.datasets import ava
from nimabench.datasets.ava import AVA
from nimabench.errors import DatasetError

N_IMAGES = 40
MISSING_ID, CORRUPT_ID = "1005", "1006"


def ava_lines(n: int, seed: int = 0) -> list[str]:
    """Lines in the authors' format: index image_id c1..c10 tag1 tag2 challenge_id."""
    rng = np.random.default_rng(seed)
    votes = rng.integers(0, 40, size=(n, 10))
    votes[:, 4] += 1  # no image without votes
    return [f"{i + 1} {1000 + i} {' '.join(map(str, row))} {i % 66} 0 {1396 + i % 3}" for i, row in enumerate(votes)]


@pytest.fixture
def ava_dir(tmp_path, write_image, write_corrupt):
    lines = ava_lines(N_IMAGES)
    (tmp_path / "AVA.txt").write_text("\n".join(lines) + "\n")
    for line in lines:
        image_id = line.split()[1]
        if image_id == CORRUPT_ID:
            write_corrupt(tmp_path / "images" / f"{image_id}.jpg")
        elif image_id != MISSING_ID:
            write_image(tmp_path / "images" / f"{image_id}.jpg", shade=int(image_id))
    return tmp_path


def vote_table(path):
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return {row[1]: np.array(row[2:12], dtype=float) for row in rows}


def test_labels_are_the_vote_fractions(ava_dir, check_manifest):
    manifest = AVA(ava_dir).manifest()
    check_manifest(manifest)
    votes = vote_table(ava_dir / "AVA.txt")
    assert len(manifest.frame) == N_IMAGES - 2
    for row, p in zip(manifest.frame.itertuples(), manifest.distributions(), strict=True):
        np.testing.assert_allclose(p, votes[row.image_id] / votes[row.image_id].sum(), rtol=0, atol=1e-12)
        assert row.mean == pytest.approx(float(p @ np.arange(1, 11)))
        assert row.path.endswith(f"images/{row.image_id}.jpg")
    assert list(manifest.score_values) == list(range(1, 11))
    assert AVA.accuracy_threshold == 5


def test_missing_and_corrupt_images_are_skipped_and_counted(ava_dir):
    manifest = AVA(ava_dir).manifest()
    reasons = {skip.path.rsplit("/", 1)[-1]: skip.reason for skip in manifest.skipped}
    assert reasons[f"{MISSING_ID}.jpg"] == "missing"
    assert reasons[f"{CORRUPT_ID}.jpg"].startswith("corrupt")
    assert not {MISSING_ID, CORRUPT_ID} & set(manifest.frame["image_id"])


def test_official_test_list_is_the_test_split(ava_dir):
    lists = ava_dir / "aesthetics_image_lists"
    lists.mkdir()
    # a trailing .jpg is tolerated; an id AVA.txt does not list is ignored
    (lists / "generic_test.jpgl").write_text("1000\n1001\n1002.jpg\n1003\n1004\n99999\n")
    manifest = AVA(ava_dir).manifest(check_images=False)
    assert set(manifest.split("test")["image_id"]) == {"1000", "1001", "1002", "1003", "1004"}
    assert manifest.counts() == {"train": 33, "val": 2, "test": 5}  # 5% of the other 35 as val
    assert "official" in manifest.split_policy


def test_without_the_list_the_split_is_a_seeded_90_10(ava_dir):
    first = AVA(ava_dir, seed=3).manifest(check_images=False)
    assert first.counts() == {"train": 34, "val": 2, "test": 4}
    again = AVA(ava_dir, seed=3).manifest(check_images=False)
    other = AVA(ava_dir, seed=4).manifest(check_images=False)
    assert first.frame["split"].tolist() == again.frame["split"].tolist()
    assert first.frame["split"].tolist() != other.frame["split"].tolist()


def test_split_option_forces_random_or_official(ava_dir):
    lists = ava_dir / "aesthetics_image_lists"
    with pytest.raises(DatasetError, match="generic_test.jpgl"):
        AVA(ava_dir, split="official").manifest(check_images=False)
    lists.mkdir()
    (lists / "generic_test.jpgl").write_text("1000\n")
    assert AVA(ava_dir, split="random").manifest(check_images=False).counts()["test"] == 4
    with pytest.raises(DatasetError, match="split"):
        AVA(ava_dir, split="sometimes")


@pytest.mark.parametrize(("line", "replacement", "expected"), [
    (3, "3 1002 0 1 5 17 38 36 15 6 5 1 1 22", "line 3: expected 15 fields"),
    (5, "5 1004 0 1 5 x 38 36 15 6 5 1 1 22 1396", "line 5: c4 must be an integer, found 'x'"),
    (7, "7 1006 0 1 5 17 38 36 15 6 5 1 1 22 1396 9", "line 7: expected 15 fields"),
    (8, "8 1007 0 1 5 17 38 36 15 6 5 1 1 22 1396 9 9 9", "line 8: expected 15 fields"),
    (9, "9 abc 0 1 5 17 38 36 15 6 5 1 1 22 1396", "line 9: image_id must be a number"),
    (10, "10 1009 0 1 5 17 38 36 2.5 6 5 1 1 22 1396", "line 10: c7 must be an integer"),
    (11, "11 1010 0 0 0 0 0 0 0 0 0 0 1 22 1396", "line 11: vote counts"),
    (12, "12 1010 0 1 5 17 38 36 15 6 5 1 1 22 1396", "'1010' is listed twice: lines 11 and 12"),
])
def test_a_malformed_line_names_the_file_and_line(ava_dir, line, replacement, expected):
    lines = (ava_dir / "AVA.txt").read_text().splitlines()
    lines[line - 1] = replacement
    (ava_dir / "AVA.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as error:
        AVA(ava_dir).manifest(check_images=False)
    assert "AVA.txt" in str(error.value)
    assert expected in str(error.value)


def test_blank_lines_are_skipped_but_still_counted(ava_dir):
    lines = (ava_dir / "AVA.txt").read_text().splitlines()
    lines.insert(2, "")
    lines[5] = "5 1004 0 1 5 x 38 36 15 6 5 1 1 22 1396"
    (ava_dir / "AVA.txt").write_text("\n".join(lines) + "\n\n")
    with pytest.raises(DatasetError, match=r"AVA.txt, line 6: c4"):
        AVA(ava_dir).manifest(check_images=False)


def test_missing_label_file_says_what_and_where(tmp_path):
    with pytest.raises(DatasetError) as error:
        AVA(tmp_path / "nowhere").manifest()
    message = str(error.value)
    assert "AVA.txt" in message and str(tmp_path / "nowhere") in message
    assert "ava_downloader" in message and "CVPR 2012" in message


def test_a_full_size_label_file_parses_quickly(tmp_path):
    n = 255_500
    rng = np.random.default_rng(0)
    table = np.column_stack([np.arange(1, n + 1), np.arange(n) + 100_000, rng.integers(1, 60, size=(n, 10)),
                             np.zeros((n, 2), dtype=int), np.full(n, 1396)])
    np.savetxt(tmp_path / "AVA.txt", table, fmt="%d")
    start = time.perf_counter()
    manifest = AVA(tmp_path).manifest(check_images=False)
    elapsed = time.perf_counter() - start
    assert len(manifest.frame) == n
    assert elapsed < 8, f"parsing {n} AVA lines took {elapsed:.1f} s"  # about 1 s on 2 cores


def test_the_plugin_hook_registers_the_class():
    registered = []
    ava.register_datasets(registered.append)
    assert registered == [AVA]
