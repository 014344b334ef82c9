"""Finding ImageNet weights without downloading, loading them, and saying where it looked when they are absent.

The fake Keras cache holds a real weights file in the official (legacy HDF5) format, saved from a randomly
initialised network under the official file name: loading it proves the path a real cached file takes.
"""

import h5py
import keras
import numpy as np
import pytest
from keras.src.legacy.saving.legacy_h5_format import save_weights_to_hdf5_group

from nimabench.errors import NimabenchError
from nimabench.plugins import collect
from nimabench_keras.catalogue import catalogue_entry
from nimabench_keras.model import build_base
from nimabench_keras.weights import find_weights

SIZE = 32


def save_official_file(constructor: str, path, **kwargs) -> keras.Model:
    """A random network saved as Keras's own application weight files are (HDF5, layer by layer)."""
    model = getattr(keras.applications, constructor)(include_top=False, weights=None, pooling="avg",
                                                     input_shape=(SIZE, SIZE, 3), **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as file:
        save_weights_to_hdf5_group(file, model)
    return model


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    monkeypatch.delenv("NIMABENCH_WEIGHTS", raising=False)
    return tmp_path / "keras-home"


def backbone(name):
    return collect("backbone").get(f"keras:{name}")


def test_absent_weights_name_every_place_searched(keras_home, tmp_path):
    mobilenet = backbone("mobilenet")
    lookup = mobilenet.find_pretrained(tmp_path / "weights")
    assert lookup.found is None
    assert str(keras_home / "models" / "mobilenet_1_0_224_tf_no_top.h5") in lookup.searched
    assert str(tmp_path / "weights" / "mobilenet.h5") in lookup.searched
    with pytest.raises(NimabenchError) as raised:
        mobilenet.build(num_buckets=10, pretrained=True, weights_dir=tmp_path / "weights")
    message = str(raised.value)
    assert "keras:mobilenet" in message and "mobilenet_1_0_224_tf_no_top.h5" in message
    assert "--allow-random-init" in message and str(tmp_path / "weights") in message
    assert mobilenet.availability(tmp_path / "weights") == "random init only"


def test_weights_dir_comes_before_the_keras_cache(keras_home, tmp_path):
    entry = catalogue_entry("mobilenet_025")
    (keras_home / "models").mkdir(parents=True)
    (keras_home / "models" / entry.weights_file).write_bytes(b"cached")
    assert find_weights(entry).found == str(keras_home / "models" / entry.weights_file)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "mobilenet_025.weights.h5").write_bytes(b"mine")
    assert find_weights(entry, tmp_path / "mine").found == str(tmp_path / "mine" / "mobilenet_025.weights.h5")


def test_nimabench_weights_env_is_the_default_weights_dir(keras_home, tmp_path, monkeypatch):
    entry = catalogue_entry("vgg16")
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / entry.weights_file).write_bytes(b"x")
    monkeypatch.setenv("NIMABENCH_WEIGHTS", str(tmp_path / "env"))
    assert find_weights(entry).found == str(tmp_path / "env" / entry.weights_file)


def test_a_cached_official_file_loads_into_the_backbone(keras_home):
    entry = catalogue_entry("mobilenet_025")
    saved = save_official_file("MobileNet", keras_home / "models" / entry.weights_file, alpha=0.25)
    tiny = backbone("mobilenet_025")
    assert tiny.availability() == "pretrained"
    model = tiny.build(num_buckets=10, pretrained=True, input_size=SIZE)
    loaded = model.get_layer("backbone")
    for ours, theirs in zip(loaded.weights, saved.weights, strict=True):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_file_that_does_not_fit_is_an_error_naming_it(keras_home):
    entry = catalogue_entry("mobilenet")
    path = keras_home / "models" / entry.weights_file
    save_official_file("MobileNet", path, alpha=0.25)  # a 0.25 file under the 1.0 name
    with pytest.raises(NimabenchError, match="cannot load .*mobilenet_1_0_224_tf_no_top.h5"):
        build_base(entry, SIZE, path)


def test_efficientnet_from_a_file_computes_what_keras_imagenet_model_computes(keras_home, monkeypatch):
    """Keras adds a Rescaling layer only for weights='imagenet'; loading by path folds it into Normalization."""
    entry = catalogue_entry("efficientnet_b0")
    path = keras_home / "models" / entry.weights_file
    saved = save_official_file("EfficientNetB0", path)
    normalization = next(layer for layer in saved.layers if isinstance(layer, keras.layers.Normalization))
    normalization.adapt_mean.assign([0.485, 0.456, 0.406])  # the official file's statistics
    normalization.adapt_variance.assign([0.229, 0.224, 0.225])
    with h5py.File(path, "w") as file:
        save_weights_to_hdf5_group(file, saved)
    from keras.src.applications import efficientnet

    monkeypatch.setattr(efficientnet.file_utils, "get_file", lambda *args, **kwargs: str(path))
    reference = keras.applications.EfficientNetB0(include_top=False, weights="imagenet", pooling="avg",
                                                  input_shape=(SIZE, SIZE, 3))
    ours = build_base(entry, SIZE, path)
    pixels = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 3)).astype(np.float32)
    # The first convolution's output: deeper, a random network's activations shrink to nothing.
    stems = [keras.Model(model.input, model.get_layer("stem_conv").output) for model in (ours, reference)]
    ours_stem, reference_stem = (np.asarray(stem(pixels)) for stem in stems)
    assert np.abs(reference_stem).mean() > 0.1
    np.testing.assert_allclose(ours_stem, reference_stem, rtol=1e-5, atol=1e-5)
