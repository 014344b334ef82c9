"""What the training benchmarks share: a synthetic manifest of smooth random photos.

Imported as ``_common`` by the benchmark scripts, which run as ``python benchmarks/<name>.py`` (so this
folder is first on ``sys.path``); the leading underscore says it is not a benchmark itself.
"""

from __future__ import annotations

from pathlib import Path


def synthetic_manifest(folder: Path, n_train: int, n_val: int = 8, n_test: int = 8):
    """Smooth random photos-to-be (320x320 PNG) with Dirichlet labels over 10 buckets."""
    import numpy as np
    import pandas as pd
    from PIL import Image

    from nimabench.dataset import Manifest, probability_columns

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    scores = np.arange(1.0, 11.0)
    rows = []
    for split, count in (("train", n_train), ("val", n_val), ("test", n_test)):
        for i in range(count):
            path = folder / f"{split}{i:04d}.png"
            if not path.exists():
                small = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
                photo = Image.fromarray(small).resize((320, 320), Image.Resampling.BICUBIC)
                photo.save(path, compress_level=1)
            p = rng.dirichlet(np.ones(10))
            rows.append({"image_id": path.stem, "path": str(path), "split": split, "group": path.stem,
                         "mean": float(p @ scores), "std": 1.0,
                         **dict(zip(probability_columns(10), p, strict=True))})
    return Manifest("bench", "aesthetic", scores, pd.DataFrame(rows), "votes", "fixed", folder)
