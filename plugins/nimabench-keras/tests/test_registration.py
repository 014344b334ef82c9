"""Loading the plugin and listing what it registers imports neither Keras nor TensorFlow."""

import json
import subprocess
import sys

LISTING = """
import json, sys, time
start = time.perf_counter()
from nimabench.catalog import list_rows
from nimabench.plugins import collect
rows = list_rows("backbones")
collect("loss"); trainers = [entry.name for entry in collect("trainer")]
heavy = sorted(m for m in ("keras", "tensorflow", "torch") if m in sys.modules)
print(json.dumps({"rows": len(rows), "trainers": trainers, "heavy": heavy,
                  "seconds": time.perf_counter() - start}))
"""


def test_listing_backbones_imports_no_framework():
    done = subprocess.run([sys.executable, "-c", LISTING], capture_output=True, text=True, check=True,
                          env={**__import__("os").environ, "NIMABENCH_LOAD_PLUGINS": "nimabench-keras"})
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["heavy"] == [], result
    assert result["rows"] >= 41 and "keras" in result["trainers"]
    assert result["seconds"] < 5, result


def test_every_builtin_loss_has_a_keras_kernel():
    from nimabench.plugins import collect

    losses = collect("loss")
    for name in ("emd", "emd1", "cce", "mse-mean", "cbce"):
        assert "keras" in losses.get(name).kernels
