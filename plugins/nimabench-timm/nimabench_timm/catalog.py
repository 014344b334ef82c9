"""The curated timm models nimabench registers, described statically so listing them never imports timm.

Each entry records what ``timm.create_model(name, num_classes=0)`` gives in timm 1.0: the default input size
of its pretrained config, the width of the pooled features (what the NIMA head sees: ``head_hidden_size``,
so 1280 for MobileNetV3-Large whose pooled 960 channels pass through ``conv_head``, and 4096 for VGG16's
``pre_logits``), and the Hugging Face repository of its default pretrained tag (where the weights would be
cached). ``tests/test_catalog.py`` checks these figures against the installed timm.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimmModelInfo:
    name: str
    input_size: int
    feature_width: int
    hf_hub_id: str  # the default pretrained tag's repository, e.g. "timm/resnet50.a1_in1k"
    description: str


CURATED_MODELS = (
    TimmModelInfo("mobilenetv3_large_100", 224, 1280, "timm/mobilenetv3_large_100.ra_in1k",
                  "MobileNetV3-Large 1.0 (4.2M parameters)"),
    TimmModelInfo("mobilenetv3_small_100", 224, 1024, "timm/mobilenetv3_small_100.lamb_in1k",
                  "MobileNetV3-Small 1.0 (1.5M parameters)"),
    TimmModelInfo("mobilenetv1_100", 224, 1024, "timm/mobilenetv1_100.ra4_e3600_r224_in1k",
                  "MobileNet v1 1.0, the NIMA paper's MobileNet (3.2M parameters)"),
    TimmModelInfo("inception_resnet_v2", 299, 1536, "timm/inception_resnet_v2.tf_in1k",
                  "Inception-ResNet-v2, the usual rebuild of NIMA's 'Inception-v2' (54M parameters)"),
    TimmModelInfo("efficientnet_lite0", 224, 1280, "timm/efficientnet_lite0.ra_in1k",
                  "EfficientNet-Lite0 (3.4M parameters; pretrained from the PyPI package too)"),
    TimmModelInfo("resnet50", 224, 2048, "timm/resnet50.a1_in1k", "ResNet-50 (24M parameters)"),
    TimmModelInfo("vgg16", 224, 4096, "timm/vgg16.tv_in1k",
                  "VGG16, NIMA's best backbone on TID2013 (134M parameters)"),
    TimmModelInfo("efficientnet_b0", 224, 1280, "timm/efficientnet_b0.ra_in1k",
                  "EfficientNet-B0 (4.0M parameters)"),
    TimmModelInfo("convnext_tiny", 224, 768, "timm/convnext_tiny.in12k_ft_in1k",
                  "ConvNeXt-Tiny (28M parameters)"),
    TimmModelInfo("test_efficientnet", 160, 256, "timm/test_efficientnet.r160_in1k",
                  "tiny EfficientNet for tests (0.1M parameters)"),
    TimmModelInfo("test_resnet", 160, 96, "timm/test_resnet.r160_in1k",
                  "tiny ResNet for tests (0.4M parameters)"),
)

CURATED_BY_NAME = {info.name: info for info in CURATED_MODELS}
