"""CONTRIBUTING.md's worked example runs as written: its dataset, loss and schedule register and work."""

import importlib.util
import re
from pathlib import Path

import numpy as np
from PIL import Image

from nimabench.plugins import collect, pm

CONTRIBUTING = Path(__file__).parents[1] / "CONTRIBUTING.md"


def load_example(tmp_path):
    code = re.search(r"```python\n(.*?)```", CONTRIBUTING.read_text(), re.S).group(1)
    module_path = tmp_path / "pet_plugin.py"
    module_path.write_text(code)
    spec = importlib.util.spec_from_file_location("pet_plugin", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_worked_example_registers_and_loads_its_dataset(tmp_path):
    module = load_example(tmp_path)
    pm.register(module, name="pet-plugin")
    try:
        assert collect("loss").entry("mae-mean").plugin == "pet-plugin"
        assert collect("schedule").get("quick-probe").stages_for("aesthetic")[0].epochs == 3
        data = tmp_path / "pets"
        (data / "images").mkdir(parents=True)
        lines = ["image,c1,c2,c3,c4,c5"]
        for i in range(20):
            Image.new("RGB", (8, 8), (i * 10, 0, 0)).save(data / "images" / f"pet{i}.png")
            lines.append(f"pet{i}.png,{i % 3},1,2,3,{i % 5 + 1}")
        (data / "votes.csv").write_text("\n".join(lines) + "\n")
        manifest = collect("dataset").get("pet-photos")(data).manifest()
        assert len(manifest.frame) == 20 and set(manifest.counts()) == {"train", "val", "test"}
        np.testing.assert_allclose(manifest.distributions().sum(axis=1), 1.0)
    finally:
        pm.unregister(name="pet-plugin")
