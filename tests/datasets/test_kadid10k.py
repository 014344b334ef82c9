import numpy as np
import pytest

from nimabench.datasets import kadid10k
from nimabench.datasets.kadid10k import KADID10k
from nimabench.errors import DatasetError
from nimabench.labels import distribution_moments

SCORES = np.arange(1.0, 6.0)
NAMES = [(f"I{ref:02d}_{kind:02d}_{level:02d}.png", f"I{ref:02d}.png")
         for ref in range(1, 7) for kind in (1, 2) for level in (1, 2)]
DMOS = np.round(np.linspace(1.3, 4.8, len(NAMES)), 3)
DMOS[0] = 1.0  # KADID-10k has DMOS values at the very bottom of the scale
VAR = np.round(np.linspace(0.4, 0.7, len(NAMES)), 3)  # stds each mean can have


def dmos_lines() -> list[str]:
    body = [f"{dist},{ref},{dmos:.3f},{var:.3f}" for (dist, ref), dmos, var in zip(NAMES, DMOS, VAR, strict=True)]
    return ["dist_img,ref_img,dmos,var", *body]


@pytest.fixture
def kadid_dir(tmp_path, write_image, write_corrupt):
    (tmp_path / "dmos.csv").write_text("\n".join(dmos_lines()) + "\n")
    for i, (dist, _) in enumerate(NAMES):
        if i == 5:
            write_corrupt(tmp_path / "images" / dist)
        elif i != 6:
            write_image(tmp_path / "images" / dist, shade=i * 9)
    return tmp_path


def test_means_hit_the_dmos_and_stds_the_root_of_var(kadid_dir, check_manifest):
    manifest = KADID10k(kadid_dir).manifest(check_images=False)
    check_manifest(manifest)
    np.testing.assert_allclose(manifest.frame["mean"], DMOS)
    np.testing.assert_allclose(manifest.frame["std"], np.sqrt(VAR))
    mean, std = distribution_moments(manifest.distributions(), SCORES)
    np.testing.assert_allclose(mean, DMOS, atol=1e-6)
    np.testing.assert_allclose(std[1:], np.sqrt(VAR[1:]), atol=1e-6)  # the first has all mass on one bucket
    # a DMOS at the end of the scale allows one distribution only: all votes on 1
    np.testing.assert_allclose(manifest.distributions()[0], [1, 0, 0, 0, 0])
    assert manifest.frame["group"].tolist()[:4] == ["I01"] * 4


def test_missing_and_corrupt_images_are_skipped(kadid_dir):
    manifest = KADID10k(kadid_dir).manifest()
    assert len(manifest.frame) == len(NAMES) - 2
    assert sorted(skip.reason[:7] for skip in manifest.skipped) == ["corrupt", "missing"]


def test_the_split_is_seeded_by_reference(kadid_dir):
    manifest = KADID10k(kadid_dir, seed=2).manifest(check_images=False)
    assert manifest.counts() == {"train": 16, "val": 4, "test": 4}  # 4 / 1 / 1 of the 6 references
    assert (manifest.frame.groupby("group")["split"].nunique() == 1).all()
    again = KADID10k(kadid_dir, seed=2).manifest(check_images=False)
    assert manifest.frame["split"].tolist() == again.frame["split"].tolist()


def test_folds_partition_the_references(kadid_dir):
    tested = [set(KADID10k(kadid_dir, folds=2, fold=fold).manifest(check_images=False).split("test")["group"])
              for fold in (0, 1)]
    assert tested[0].isdisjoint(tested[1]) and len(tested[0] | tested[1]) == 6


def test_an_image_path_leaving_the_data_dir_is_refused(kadid_dir):
    lines = dmos_lines()
    lines[3] = "../../outside.png,I01.png,3.0,0.5"
    (kadid_dir / "dmos.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"dmos.csv, line 4: image path 'images/../../outside.png' escapes"):
        KADID10k(kadid_dir).manifest()


@pytest.mark.parametrize(("line", "text", "expected"), [
    (3, "I01_01_02.png,I01.png,3.1,x", "dmos.csv, line 3: var must be a finite number, found 'x'"),
    (4, "I01_02_01.png,I01.png,5.2,0.5", "dmos.csv, line 4: dmos 5.2 is outside 1..5"),
    (5, "I01_02_02.png,I01.png,3.0", "dmos.csv, line 5: var is empty"),
    (6, "I01_01_01.png,I01.png,3.0,0.5", "'I01_01_01.png' is listed twice: lines 2 and 6"),
    (7, ",I02.png,3.0,0.5", "dmos.csv, line 7: dist_img is empty"),
])
def test_a_malformed_line_names_the_file_and_line(kadid_dir, line, text, expected):
    lines = dmos_lines()
    lines[line - 1] = text
    (kadid_dir / "dmos.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError) as error:
        KADID10k(kadid_dir).manifest(check_images=False)
    assert expected in str(error.value)


def test_missing_label_file_says_what_and_where(tmp_path):
    with pytest.raises(DatasetError) as error:
        KADID10k(tmp_path).manifest()
    assert f"expected dmos.csv at {tmp_path / 'dmos.csv'}" in str(error.value)
    assert "kadid-10k-database" in str(error.value)


def test_the_plugin_hook_registers_the_class():
    registered = []
    kadid10k.register_datasets(registered.append)
    assert registered == [KADID10k]
