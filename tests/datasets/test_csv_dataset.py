import numpy as np
import pandas as pd
import pytest

from nimabench.datasets import csv_dataset
from nimabench.datasets.csv_dataset import CSVDataset
from nimabench.errors import DatasetError
from nimabench.labels import distribution_moments

N_IMAGES = 20
IMAGES = [f"photos/scene{i // 2}/shot{i}.jpg" for i in range(N_IMAGES)]
VOTES = np.random.default_rng(3).integers(0, 9, size=(N_IMAGES, 5)) + np.array([0, 1, 0, 0, 0])
MEANS = np.round(np.linspace(2.5, 8.5, N_IMAGES), 3)
STDS = np.round(np.linspace(1.0, 1.6, N_IMAGES), 3)
SPLITS = ["train"] * 12 + ["validation"] * 3 + ["test"] * 5


@pytest.fixture
def image_dir(tmp_path, write_image, write_corrupt):
    for i, image in enumerate(IMAGES):
        if i == 2:
            write_corrupt(tmp_path / image)
        elif i != 3:
            write_image(tmp_path / image, shade=i * 12)
    return tmp_path


def write_labels(directory, columns: dict, name: str = "labels.csv") -> None:
    pd.DataFrame(columns).to_csv(directory / name, index=False)


def vote_columns(prefix: str = "c", start: int = 1) -> dict:
    return {f"{prefix}{start + k}": VOTES[:, k] for k in range(VOTES.shape[1])}


def test_vote_columns_give_the_distribution(image_dir, check_manifest):
    write_labels(image_dir, {"image": IMAGES, **vote_columns(), "group": [f"scene{i // 2}" for i in range(N_IMAGES)]})
    dataset = CSVDataset(image_dir)
    assert dataset.label_strategy == "votes" and dataset.score_values == (1.0, 2.0, 3.0, 4.0, 5.0)
    manifest = dataset.manifest()
    check_manifest(manifest)
    assert len(manifest.frame) == N_IMAGES - 2 and len(manifest.skipped) == 2
    votes = dict(zip((image.removesuffix(".jpg") for image in IMAGES), VOTES, strict=True))
    for image_id, p in zip(manifest.frame["image_id"], manifest.distributions(), strict=True):
        np.testing.assert_allclose(p, votes[image_id] / votes[image_id].sum(), atol=1e-12)
    assert manifest.task == "aesthetic"
    assert "seeded 80/10/10" in manifest.split_policy


def test_groups_never_straddle_splits(image_dir):
    write_labels(image_dir, {"image": IMAGES, **vote_columns(), "group": [f"scene{i // 2}" for i in range(N_IMAGES)]})
    frame = CSVDataset(image_dir).manifest(check_images=False).frame
    assert (frame.groupby("group")["split"].nunique() == 1).all()
    assert frame.groupby("split")["group"].nunique().to_dict() == {"test": 1, "train": 8, "val": 1}


def test_votes_columns_on_a_declared_scale(image_dir):
    write_labels(image_dir, {"image": IMAGES, **vote_columns("votes_", start=0)})
    manifest = CSVDataset(image_dir, scale="0-4").manifest(check_images=False)
    assert list(manifest.score_values) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(manifest.frame["mean"], VOTES @ np.arange(5) / VOTES.sum(axis=1))
    with pytest.raises(DatasetError, match="5 vote columns but option scale=1-10 has 10 score values"):
        CSVDataset(image_dir, scale="1-10")


def test_mean_and_std_with_a_split_column(image_dir, check_manifest):
    write_labels(image_dir, {"image": IMAGES, "mean": MEANS, "std": STDS, "split": SPLITS})
    manifest = CSVDataset(image_dir, scale="1-10", task="technical").manifest(check_images=False)
    check_manifest(manifest)
    assert manifest.task == "technical" and manifest.label_strategy == "maxent-mean-std"
    assert manifest.counts() == {"train": 12, "val": 3, "test": 5}
    assert manifest.split_policy == "the split column of labels.csv"
    mean, std = distribution_moments(manifest.distributions(), np.arange(1.0, 11.0))
    np.testing.assert_allclose(mean, MEANS, atol=1e-6)
    np.testing.assert_allclose(std, STDS, atol=1e-6)


def test_mean_alone_defaults_to_maxent_mean(image_dir):
    write_labels(image_dir, {"image": IMAGES, "mean": MEANS}, name="mine.csv")
    manifest = CSVDataset(image_dir, csv="mine.csv", scale="1..10").manifest(check_images=False)
    assert manifest.label_strategy == "maxent-mean"
    np.testing.assert_allclose(manifest.distributions() @ np.arange(1, 11), MEANS, atol=1e-6)
    with pytest.raises(DatasetError, match="needs a std column"):
        CSVDataset(image_dir, csv="mine.csv", scale="1-10", label_strategy="gaussian").manifest()


@pytest.mark.parametrize(("options", "expected"), [
    ({}, "needs option scale=lo-hi"),
    ({"scale": "10-1"}, "option scale='10-1' must be lo-hi integers"),
    ({"scale": "1-10", "task": "beauty"}, "option task='beauty' must be one of aesthetic, technical"),
    ({"scale": "1-10", "colums": "x"}, "has no option 'colums'"),
])
def test_bad_options_are_named(image_dir, options, expected):
    write_labels(image_dir, {"image": IMAGES, "mean": MEANS})
    with pytest.raises(DatasetError, match=expected):
        CSVDataset(image_dir, **options)


@pytest.mark.parametrize(("column", "index", "value", "expected"), [
    ("image", 4, "../../outside.jpg", "labels.csv, line 6: image path '../../outside.jpg' escapes the data dir"),
    ("split", 6, "holdout", "labels.csv, line 8: split 'holdout' is not train, val or test"),
    ("split", 7, "", "labels.csv, line 9: split is empty"),
    ("mean", 8, "11.5", "labels.csv, line 10: mean 11.5 is outside 1..10"),
    ("std", 9, "wide", "labels.csv, line 11: std must be a finite number, found 'wide'"),
    ("image", 10, IMAGES[0], "is listed twice: lines 2 and 12"),
])
def test_a_malformed_line_names_the_file_and_line(image_dir, column, index, value, expected):
    columns = {"image": list(IMAGES), "mean": MEANS.astype(object), "std": STDS.astype(object),
               "split": list(SPLITS)}
    columns[column][index] = value
    write_labels(image_dir, columns)
    with pytest.raises(DatasetError) as error:
        CSVDataset(image_dir, scale="1-10").manifest(check_images=False)
    assert expected in str(error.value)


def test_header_problems_are_named(image_dir):
    write_labels(image_dir, {"file": IMAGES, **vote_columns()})
    with pytest.raises(DatasetError, match="labels.csv, line 1: missing column image"):
        CSVDataset(image_dir).manifest()
    write_labels(image_dir, {"image": IMAGES, "c1": VOTES[:, 0], "c2": VOTES[:, 1], "c4": VOTES[:, 3]})
    with pytest.raises(DatasetError, match="numbered consecutively, found c1, c2, c4"):
        CSVDataset(image_dir)


def test_a_file_written_after_the_dataset_was_made_is_read(image_dir):
    dataset = CSVDataset(image_dir)
    write_labels(image_dir, {"image": IMAGES, **vote_columns()})
    manifest = dataset.manifest(check_images=False)
    assert list(manifest.score_values) == [1, 2, 3, 4, 5] and manifest.label_strategy == "votes"


def test_missing_label_file_says_what_and_where(tmp_path):
    with pytest.raises(DatasetError) as error:
        CSVDataset(tmp_path, scale="1-10").manifest()
    assert f"expected labels.csv at {tmp_path / 'labels.csv'}" in str(error.value)
    assert "image column" in str(error.value)


def test_its_label_strategies_are_those_of_the_labels_module():
    from nimabench.labels import LABEL_STRATEGIES

    assert set(CSVDataset.label_strategies) == set(LABEL_STRATEGIES)


def test_the_plugin_hook_registers_the_class():
    registered = []
    csv_dataset.register_datasets(registered.append)
    assert registered == [CSVDataset]
