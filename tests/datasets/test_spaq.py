import numpy as np
import openpyxl
import pytest

from nimabench.datasets import spaq
from nimabench.datasets.spaq import SPAQ
from nimabench.errors import DatasetError
from nimabench.labels import distribution_moments

N_IMAGES = 20
NAMES = [f"{i:05d}.jpg" for i in range(1, N_IMAGES + 1)]
MOS = np.round(np.linspace(8.5, 91.25, N_IMAGES), 2)
HEADER = ["Image name", "MOS", "Brightness", "Colorfulness", "Contrast", "Noisiness", "Sharpness"]
LABEL_FILE = "Annotations/MOS and Image attribute scores.xlsx"


def write_annotations(path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def annotation_rows() -> list[list]:
    return [[name, float(mos), 50.0, 40.0, 45.5, 60.0, 55.0] for name, mos in zip(NAMES, MOS, strict=True)]


@pytest.fixture
def spaq_dir(tmp_path, write_image, write_corrupt):
    write_annotations(tmp_path / LABEL_FILE, annotation_rows())
    for i, name in enumerate(NAMES):
        if i == 0:
            write_corrupt(tmp_path / "TestImage" / name)
        elif i != 1:
            write_image(tmp_path / "TestImage" / name, shade=i * 11)
    return tmp_path


def test_the_mos_is_mapped_onto_1_to_10(spaq_dir, check_manifest):
    manifest = SPAQ(spaq_dir).manifest()
    check_manifest(manifest)
    assert manifest.label_strategy == "maxent-mean"
    assert len(manifest.frame) == N_IMAGES - 2 and len(manifest.skipped) == 2
    kept = MOS[2:]
    np.testing.assert_allclose(manifest.frame["mean"], 1 + 9 * kept / 100)
    np.testing.assert_allclose(manifest.frame["mos_0_100"], kept)
    mean, std = distribution_moments(manifest.distributions(), np.arange(1.0, 11.0))
    np.testing.assert_allclose(mean, 1 + 9 * kept / 100, atol=1e-6)
    np.testing.assert_allclose(manifest.frame["std"], std)  # SPAQ has no std: the label's own
    assert manifest.frame["path"].str.endswith(tuple(f"TestImage/{n}" for n in NAMES)).all()


def test_the_split_is_a_seeded_80_10_10(spaq_dir):
    manifest = SPAQ(spaq_dir, seed=1).manifest(check_images=False)
    assert manifest.counts() == {"train": 16, "val": 2, "test": 2}


def test_gaussian_labels_need_an_explicit_std(spaq_dir):
    with pytest.raises(DatasetError, match="gaussian_std"):
        SPAQ(spaq_dir, label_strategy="gaussian")
    manifest = SPAQ(spaq_dir, label_strategy="gaussian", gaussian_std="1.5").manifest(check_images=False)
    np.testing.assert_allclose(manifest.frame["std"], 1.5)
    assert manifest.distributions()[10].argmax() == round(1 + 9 * MOS[10] / 100) - 1
    with pytest.raises(DatasetError, match="no label strategy 'votes'"):
        SPAQ(spaq_dir, label_strategy="votes")


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda rows: rows[3].__setitem__(1, "good"), "row 5: MOS must be a finite number, found 'good'"),
    (lambda rows: rows[4].__setitem__(1, 120.0), "row 6: MOS 120 is outside 0..100"),
    (lambda rows: rows[5].__setitem__(1, None), "row 7: MOS is empty"),
    (lambda rows: rows[6].__setitem__(0, "../../../escape.jpg"), "row 8: image path 'TestImage/../../../escape.jpg'"),
])
def test_a_malformed_row_names_the_file_and_row(spaq_dir, edit, expected):
    rows = annotation_rows()
    edit(rows)
    write_annotations(spaq_dir / LABEL_FILE, rows)
    with pytest.raises(DatasetError) as error:
        SPAQ(spaq_dir).manifest(check_images=False)
    assert "MOS and Image attribute scores.xlsx" in str(error.value)
    assert expected in str(error.value)


def test_a_damaged_spreadsheet_is_named(spaq_dir):
    (spaq_dir / LABEL_FILE).write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DatasetError, match="MOS and Image attribute scores.xlsx: cannot read the spreadsheet"):
        SPAQ(spaq_dir).manifest()


def test_missing_label_file_says_what_and_where(tmp_path):
    with pytest.raises(DatasetError) as error:
        SPAQ(tmp_path).manifest()
    assert f"expected {LABEL_FILE} at {tmp_path / LABEL_FILE}" in str(error.value)
    assert "github.com/h4nwei/SPAQ" in str(error.value)


def test_the_plugin_hook_registers_the_class():
    registered = []
    spaq.register_datasets(registered.append)
    assert registered == [SPAQ]
