"""The static catalogue of keras.applications backbones: plain data, so registering them imports no Keras.

Each row names the ``keras.applications`` constructor, its constructor arguments, the preprocessing its
ImageNet weights expect, its default and minimum input sizes, the width of its pooled features and the file
name Keras gives its no-top ImageNet weights in ``$KERAS_HOME/models``. The figures were checked against
Keras 3.15 by ``scripts/verify_catalogue.py`` (widths by building each model; sizes and file names from the
Keras sources), which should be rerun when Keras changes.

Preprocessing modes (``keras.applications.imagenet_utils.preprocess_input``):
    tf      scale 0..255 to -1..1
    caffe   RGB to BGR, then subtract the ImageNet channel means (no scaling)
    torch   scale to 0..1, then ImageNet mean/std per channel
    builtin the model normalises its own 0..255 input (MobileNetV3, EfficientNet, EfficientNetV2, ConvNeXt)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PREPROCESSING_MODES = ("tf", "caffe", "torch", "builtin")

# The regular expression whose first group names a layer's block, per family (see nimabench_keras.blocks).
# A layer whose name does not match belongs to the next block that does (topological order), so unnamed
# convolutions inside an Inception module join the module whose named output follows them.
BLOCK_PATTERNS = {
    "mobilenet": r"^conv_(?:dw|pw)_(\d+)(?:_|$)",
    "mobilenet_v2": r"^(expanded_conv|block_\d+)_",
    "mobilenet_v3": r"^(expanded_conv(?:_\d+)?)_",
    "inception_v3": r"^(mixed\d+)$",  # the module's concatenation; its convolutions are unnamed
    "inception_resnet_v2": r"^(mixed_\d\w|block\d+_\d+)",
    "xception": r"^(block\d+)_",
    "resnet": r"^(conv\d_block\d+)_",
    "vgg": r"^(block\d+)_",
    "densenet": r"^(conv\d_block\d+|pool\d)_",
    "nasnet": r"^((?:normal|reduction)_concat_\w+)$",  # a cell's output; its other layers precede it
    "efficientnet": r"^(block\d+[a-z])_",
    "convnext": r"_(stage_\d+_block_\d+)_",
}


@dataclass(frozen=True)
class CatalogueEntry:
    snake_name: str  # registered as keras:<snake_name>, and claims <snake_name> as a bare alias
    constructor: str  # the keras.applications attribute
    preprocessing: str  # one of PREPROCESSING_MODES
    default_input_size: int
    min_input_size: int
    feature_width: int  # pooled, include_top=False
    weights_file: str  # the official no-top ImageNet file name in $KERAS_HOME/models
    family: str  # a key of BLOCK_PATTERNS
    # Extra constructor arguments (alpha=0.25, ...); left out of comparisons so entries stay hashable.
    kwargs: dict[str, Any] = field(default_factory=dict, compare=False)
    description: str = ""


def _entry(snake_name, constructor, preprocessing, size, min_size, width, weights_file, family, **kwargs):
    return CatalogueEntry(snake_name, constructor, preprocessing, size, min_size, width, weights_file, family,
                          kwargs=kwargs.pop("kwargs", {}), description=kwargs.pop("description", ""))


def _resnet(depth: int, v2: bool) -> CatalogueEntry:
    suffix = "v2" if v2 else ""
    return _entry(f"resnet{depth}{'_v2' if v2 else ''}", f"ResNet{depth}{suffix.upper()}", "tf" if v2 else "caffe",
                  224, 32, 2048, f"resnet{depth}{suffix}_weights_tf_dim_ordering_tf_kernels_notop.h5", "resnet")


def _densenet(depth: int, width: int) -> CatalogueEntry:
    return _entry(f"densenet{depth}", f"DenseNet{depth}", "torch", 224, 32, width,
                  f"densenet{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5", "densenet")


_EFFICIENTNET = {"b0": (224, 1280), "b1": (240, 1280), "b2": (260, 1408), "b3": (300, 1536),
                 "b4": (380, 1792), "b5": (456, 2048), "b6": (528, 2304), "b7": (600, 2560)}
_EFFICIENTNET_V2 = {"b0": (224, 1280), "b1": (240, 1280), "b2": (260, 1408), "b3": (300, 1536),
                    "s": (384, 1280), "m": (480, 1280), "l": (480, 1280)}
_CONVNEXT = {"tiny": 768, "small": 768, "base": 1024, "large": 1536, "xlarge": 2048}


def _efficientnets() -> list[CatalogueEntry]:
    v1 = [_entry(f"efficientnet_{v}", f"EfficientNet{v.upper()}", "builtin", size, 32, width,
                 f"efficientnet{v}_notop.h5", "efficientnet") for v, (size, width) in _EFFICIENTNET.items()]
    v2 = [_entry(f"efficientnet_v2_{v}", f"EfficientNetV2{v.upper()}", "builtin", size, 32, width,
                 f"efficientnetv2-{v}_notop.h5", "efficientnet") for v, (size, width) in _EFFICIENTNET_V2.items()]
    return v1 + v2


def _convnexts() -> list[CatalogueEntry]:
    # ConvNeXtXLarge's no-top file exists (ImageNet-21k pre-training, 1k fine-tuning) like the others'.
    return [_entry(f"convnext_{v}", f"ConvNeXt{v.title().replace('Xl', 'XL')}", "builtin", 224, 32, width,
                   f"convnext_{v}_notop.h5", "convnext") for v, width in _CONVNEXT.items()]


CATALOGUE: tuple[CatalogueEntry, ...] = (
    _entry("mobilenet", "MobileNet", "tf", 224, 32, 1024, "mobilenet_1_0_224_tf_no_top.h5", "mobilenet"),
    # The tiny backbone for tests and quick runs; its ImageNet file is real too (Keras's alpha 0.25).
    _entry("mobilenet_025", "MobileNet", "tf", 224, 32, 256, "mobilenet_2_5_224_tf_no_top.h5", "mobilenet",
           kwargs={"alpha": 0.25}, description="MobileNet with alpha 0.25 (a quarter of the width)"),
    _entry("mobilenet_v2", "MobileNetV2", "tf", 224, 32, 1280,
           "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", "mobilenet_v2"),
    _entry("mobilenet_v3_small", "MobileNetV3Small", "builtin", 224, 32, 576,
           "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5", "mobilenet_v3"),
    _entry("mobilenet_v3_large", "MobileNetV3Large", "builtin", 224, 32, 960,
           "weights_mobilenet_v3_large_224_1.0_float_no_top_v2.h5", "mobilenet_v3"),
    _entry("inception_v3", "InceptionV3", "tf", 299, 75, 2048,
           "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", "inception_v3"),
    _entry("inception_resnet_v2", "InceptionResNetV2", "tf", 299, 75, 1536,
           "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5", "inception_resnet_v2",
           description="the usual stand-in for the NIMA paper's Inception-v2"),
    _entry("xception", "Xception", "tf", 299, 71, 2048,
           "xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "xception"),
    *(_resnet(depth, v2) for v2 in (False, True) for depth in (50, 101, 152)),
    _entry("vgg16", "VGG16", "caffe", 224, 32, 512, "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "vgg"),
    _entry("vgg19", "VGG19", "caffe", 224, 32, 512, "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "vgg"),
    _densenet(121, 1024), _densenet(169, 1664), _densenet(201, 1920),
    _entry("nasnet_mobile", "NASNetMobile", "tf", 224, 32, 1056, "nasnet_mobile_no_top.h5", "nasnet"),
    _entry("nasnet_large", "NASNetLarge", "tf", 331, 32, 4032, "nasnet_large_no_top.h5", "nasnet"),
    *_efficientnets(),
    *_convnexts(),
)


def catalogue_entry(snake_name: str) -> CatalogueEntry:
    for entry in CATALOGUE:
        if entry.snake_name == snake_name:
            return entry
    raise KeyError(snake_name)
