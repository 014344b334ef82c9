"""The same model family, MobileNet (v1, width 1.0) at 224 and batch 32, trained by both frameworks in one run.

Each framework runs in its own process (TensorFlow and PyTorch never share one), one after the other, so the
figures come from the same machine state; compare them as ratios. Usage:

    .venv/bin/python benchmarks/frameworks_side_by_side.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
RUNS = {
    "PyTorch (timm:mobilenetv1_100)": [HERE / "timm_training.py", "--model", "mobilenetv1_100", "--configs", "a,b",
                                       "--rounds", "1", "--skip-features"],
    "Keras (keras:mobilenet)": [HERE / "keras_training.py", "--model", "mobilenet"],
}


def main() -> None:
    for title, command in RUNS.items():
        print(f"== {title}", flush=True)
        subprocess.run([sys.executable, *map(str, command)], check=True)


if __name__ == "__main__":
    main()
