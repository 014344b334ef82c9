"""Registration: the curated timm backbones, their aliases, the static catalog, lazily added models."""

import json
import os
import subprocess
import sys

import pytest
import torch

from nimabench.backbone import alias_claimants, resolve_backbone
from nimabench.errors import UnknownNameError
from nimabench.plugins import collect
from nimabench_timm.backbones import EXTRA_MODELS_ENV, registered_backbones
from nimabench_timm.catalog import CURATED_MODELS
from nimabench_timm.model import feature_width
from nimabench_timm.timm_import import import_timm

EXPECTED = ["mobilenetv3_large_100", "mobilenetv3_small_100", "mobilenetv1_100", "inception_resnet_v2",
            "efficientnet_lite0", "resnet50", "vgg16", "efficientnet_b0", "convnext_tiny",
            "test_efficientnet", "test_resnet"]


def test_curated_backbones_are_registered_with_prefix_and_bare_alias():
    registry = collect("backbone")
    for name in EXPECTED:
        entry = registry.entry(f"timm:{name}")
        assert entry.plugin == "timm"
        assert entry.obj.framework == "torch"
        assert entry.obj.aliases == (name,) and entry.obj.alias_priority == 0
        assert resolve_backbone(registry, name).name == f"timm:{name}"
    assert alias_claimants(registry)["mobilenetv3_large_100"][0].name == "timm:mobilenetv3_large_100"


def test_registering_and_listing_import_neither_torch_nor_timm():
    code = ("import json, sys; from nimabench.catalog import list_rows; list_rows('backbones'); "
            "list_rows('losses'); list_rows('trainers'); "
            "print(json.dumps([m for m in ('torch', 'timm') if m in sys.modules]))")
    env = {**os.environ, "NIMABENCH_LOAD_PLUGINS": "nimabench-timm"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("info", CURATED_MODELS, ids=lambda info: info.name)
def test_static_catalog_matches_installed_timm(info):
    timm = import_timm()
    with torch.device("meta"):  # architecture only: no memory, no init cost
        model = timm.create_model(info.name, pretrained=False, num_classes=0)
    assert model.pretrained_cfg["input_size"][-1] == info.input_size
    assert feature_width(model) == info.feature_width
    assert model.pretrained_cfg["hf_hub_id"] == info.hf_hub_id


def test_feature_width_is_the_pooled_output(monkeypatch):
    timm = import_timm()
    for name in ("mobilenetv3_small_100", "test_resnet"):
        model = timm.create_model(name, pretrained=False, num_classes=0).eval()
        with torch.no_grad():
            assert model(torch.zeros(1, 3, 64, 64)).shape[1] == feature_width(model)


def test_any_timm_model_can_be_added_by_environment(monkeypatch):
    monkeypatch.setenv(EXTRA_MODELS_ENV, "resnet18, timm:regnety_002,resnet50")
    backbones = {b.name: b for b in registered_backbones()}
    assert "timm:resnet18" in backbones and "timm:regnety_002" in backbones
    assert list(backbones).count("timm:resnet50") == 1  # already curated: not registered twice
    assert backbones["timm:resnet18"].input_size() == 224
    assert backbones["timm:resnet18"].resolved_hf_hub_id() == "timm/resnet18.a1_in1k"
    assert collect("backbone").get("timm:regnety_002").aliases == ("regnety_002",)


def test_an_unknown_added_model_fails_when_used(monkeypatch):
    monkeypatch.setenv(EXTRA_MODELS_ENV, "resnet_does_not_exist")
    backbone = next(b for b in registered_backbones() if b.model_name == "resnet_does_not_exist")
    with pytest.raises(UnknownNameError, match=r"timm has no model 'resnet_does_not_exist' \(backbone timm:"):
        backbone.input_size()


def test_trainer_is_registered_and_available():
    trainer = collect("trainer").get("torch")
    assert trainer.framework == "torch" and trainer.available()


def test_the_resolver_hook_gives_any_timm_name():
    from nimabench_timm.plugin import resolve_backbone

    backbone = resolve_backbone("timm:resnet18")
    assert backbone.name == "timm:resnet18" and backbone.input_size() == 224
    assert resolve_backbone("keras:mobilenet") is None and resolve_backbone("timm:") is None
