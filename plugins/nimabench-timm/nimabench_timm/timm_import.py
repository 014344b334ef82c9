"""The one place timm is imported: with the Hugging Face hub offline unless the user said otherwise.

timm's ``pretrained=True`` asks the hub and takes about 46 s to fail without a network; nimabench never
downloads, so ``HF_HUB_OFFLINE=1`` is set before timm (and huggingface_hub, which reads it at import) loads.
A user who set HF_HUB_OFFLINE themselves keeps their value.
"""

from __future__ import annotations

import os
from types import ModuleType


def import_timm() -> ModuleType:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import timm

    return timm
