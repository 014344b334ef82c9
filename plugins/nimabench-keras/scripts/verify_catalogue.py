"""Check the static catalogue against the installed Keras: rerun when Keras changes.

For every entry it builds the constructor (random init, include_top=False, pooling='avg') at the entry's
minimum input size, runs one forward pass, and compares the pooled width; it also checks that the minimum
size is Keras's own (one pixel less must be refused) and counts the blocks the family pattern finds.
Large models take a while: about two minutes for the whole catalogue on two cores.

    python plugins/nimabench-keras/scripts/verify_catalogue.py [snake_name ...]
"""

from __future__ import annotations

import sys

import numpy as np


def check(entry) -> list[str]:
    import keras

    from nimabench_keras.blocks import block_ids, ordered_blocks
    from nimabench_keras.catalogue import BLOCK_PATTERNS

    constructor = getattr(keras.applications, entry.constructor)
    size = entry.min_input_size
    model = constructor(include_top=False, weights=None, pooling="avg", input_shape=(size, size, 3), **entry.kwargs)
    width = model(np.zeros((1, size, size, 3), np.float32)).shape[-1]
    problems = [] if width == entry.feature_width else [f"width {width}, catalogue says {entry.feature_width}"]
    try:
        constructor(include_top=False, weights=None, pooling="avg", input_shape=(size - 1, size - 1, 3),
                    **entry.kwargs)
        problems.append(f"accepts {size - 1} px, below the catalogue's minimum {size}")
    except ValueError:
        pass
    blocks = ordered_blocks(block_ids([layer.name for layer in model.layers], BLOCK_PATTERNS[entry.family]))
    print(f"{entry.snake_name:22} width {width:5}  min {size:3}  {len(blocks):3} blocks "
          f"(top: {', '.join(blocks[-3:])})", flush=True)
    keras.backend.clear_session()
    return problems


def main(names: list[str]) -> int:
    from nimabench_keras.catalogue import CATALOGUE

    failures = {}
    for entry in CATALOGUE:
        if names and entry.snake_name not in names:
            continue
        problems = check(entry)
        if problems:
            failures[entry.snake_name] = problems
    for name, problems in failures.items():
        print(f"MISMATCH {name}: {'; '.join(problems)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
