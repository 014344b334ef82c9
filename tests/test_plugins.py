"""The plugin system: registration, clashes, unknown names, plugin selection, lazy imports."""

import json
import os
import subprocess
import sys

import pytest

from nimabench import hookimpl
from nimabench.backbone import Backbone, WeightsLookup, resolve_backbone
from nimabench.errors import DuplicateNameError, NimabenchError, UnknownNameError
from nimabench.loss import Loss
from nimabench.plugins import DEFAULT_PLUGINS, collect, load_plugins, pm


class FakeBackbone(Backbone):
    framework = "fake"

    def framework_available(self):
        return True

    def find_pretrained(self, weights_dir=None):
        return WeightsLookup(None, ("nowhere",))

    def build(self, **kwargs):
        raise NotImplementedError


@pytest.fixture
def register_plugin():
    """Register plugin objects for one test and unregister them after (the llm/datasette pattern)."""
    load_plugins()
    added = []

    def register(plugin, name):
        pm.register(plugin, name=name)
        added.append(name)
        return plugin

    yield register
    for name in added:
        pm.unregister(name=name)


def test_default_plugins_are_registered():
    load_plugins()
    names = {pm.get_name(p) for p in pm.get_plugins()}
    assert set(DEFAULT_PLUGINS) <= names
    assert {"emd", "emd1", "cce", "mse-mean", "cbce"} <= set(collect("loss").names())
    assert {"two-stage", "head-only", "full", "nima-paper"} <= set(collect("schedule").names())


def test_a_registered_plugin_is_seen_and_gone_after_unregister(register_plugin):
    class Plugin:
        @hookimpl
        def register_backbones(self, register):
            register(FakeBackbone("fake:tiny", aliases=("tiny",)))

    register_plugin(Plugin(), "fake-plugin")
    entry = collect("backbone").entry("fake:tiny")
    assert entry.plugin == "fake-plugin"
    pm.unregister(name="fake-plugin")
    assert "fake:tiny" not in collect("backbone")
    pm.register(Plugin(), name="fake-plugin")  # so the fixture's unregister finds it


def test_a_name_registered_twice_names_both_plugins(register_plugin):
    class First:
        @hookimpl
        def register_losses(self, register):
            register(Loss("emd", "a second EMD", lambda p, t, s: p))

    register_plugin(First(), "my-losses")
    with pytest.raises(DuplicateNameError) as raised:
        collect("loss")
    assert "nimabench.losses" in str(raised.value) and "my-losses" in str(raised.value)


def test_an_unknown_name_suggests_the_close_one():
    with pytest.raises(UnknownNameError, match="did you mean 'two-stage'"):
        collect("schedule").get("two-stag")
    with pytest.raises(UnknownNameError, match="did you mean 'emd'"):
        collect("loss").get("emdd")


def test_loss_kernels_attach_to_their_loss_and_clash_when_doubled(register_plugin):
    class Kernels:
        @hookimpl
        def register_losses(self, register):
            register.kernel("emd", "fake", lambda: "the fake emd kernel")

    register_plugin(Kernels(), "fake-kernels")
    emd = collect("loss").get("emd")
    assert emd.kernel("fake") == "the fake emd kernel"
    with pytest.raises(NimabenchError, match="no torch kernel"):
        emd.kernel("torch")
    register_plugin(Kernels(), "fake-kernels-again")
    with pytest.raises(NimabenchError, match="fake-kernels.*fake-kernels-again"):
        collect("loss")


def test_a_kernel_for_an_unknown_loss_is_an_error(register_plugin):
    class Kernels:
        @hookimpl
        def register_losses(self, register):
            register.kernel("emdd", "fake", lambda: None)

    register_plugin(Kernels(), "bad-kernels")
    with pytest.raises(UnknownNameError, match="did you mean 'emd'"):
        collect("loss")


def test_bare_backbone_names_resolve_by_priority_then_registration_order(register_plugin):
    class Low:
        @hookimpl
        def register_backbones(self, register):
            register(FakeBackbone("low:mobilenet", aliases=("mobilenet",), alias_priority=1))
            register(FakeBackbone("low:resnet", aliases=("resnet",)))

    class High:
        @hookimpl
        def register_backbones(self, register):
            register(FakeBackbone("high:mobilenet", aliases=("mobilenet",), alias_priority=5))
            register(FakeBackbone("high:resnet", aliases=("resnet",)))

    register_plugin(Low(), "low")
    register_plugin(High(), "high")
    registry = collect("backbone")
    assert resolve_backbone(registry, "mobilenet").name == "high:mobilenet"
    assert resolve_backbone(registry, "resnet").name == "low:resnet"  # tie: the first registered wins
    assert resolve_backbone(registry, "high:resnet").name == "high:resnet"
    with pytest.raises(UnknownNameError, match="did you mean 'mobilenet'"):
        resolve_backbone(registry, "mobilnet")


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "NIMABENCH_LOAD_PLUGINS"}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                          check=True)


def test_nimabench_list_imports_no_framework():
    """With every installed plugin loaded, listing everything leaves the frameworks out of sys.modules."""
    code = (
        "import sys, json\n"
        "from nimabench.catalog import LIST_KINDS, list_rows\n"
        "for kind in LIST_KINDS: list_rows(kind)\n"
        "heavy = [m for m in ('torch', 'tensorflow', 'timm', 'keras', 'jax') if m in sys.modules]\n"
        "print(json.dumps(heavy))\n"
    )
    assert json.loads(_run_python(code).stdout) == []


def test_nimabench_load_plugins_empty_loads_only_the_built_ins():
    code = (
        "from nimabench.plugins import load_plugins, DEFAULT_PLUGINS\n"
        "pm = load_plugins()\n"
        "print(sorted(set(pm.get_name(p) for p in pm.get_plugins()) - set(DEFAULT_PLUGINS)))\n"
    )
    assert _run_python(code, NIMABENCH_LOAD_PLUGINS="").stdout.strip() == "[]"


def test_nimabench_load_plugins_warns_about_a_missing_distribution():
    code = "from nimabench.plugins import load_plugins\nload_plugins()\n"
    result = _run_python(code, NIMABENCH_LOAD_PLUGINS="no-such-nimabench-plugin")
    assert "no-such-nimabench-plugin" in result.stderr


def test_a_plugin_can_resolve_names_it_never_registered(register_plugin):
    class OpenEnded:
        @hookimpl
        def resolve_backbone(self, name):
            return FakeBackbone(name) if name.startswith("open:") else None

    register_plugin(OpenEnded(), "open-ended")
    registry = collect("backbone")
    entry = resolve_backbone(registry, "open:anything")
    assert entry.name == "open:anything" and entry.plugin == "open-ended"
    with pytest.raises(UnknownNameError):
        resolve_backbone(registry, "closed:anything")
