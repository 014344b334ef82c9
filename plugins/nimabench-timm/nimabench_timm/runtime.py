"""Where and how a trial computes: device, mixed precision, memory format, threads, seeds, determinism.

- device ``auto`` picks CUDA when torch sees a GPU, else the CPU; ``cuda`` without one is an error.
- CUDA: bf16 autocast (no loss scaling needed, unlike fp16) and channels-last, where convolutions are fastest.
- CPU: channels-last too (MobileNetV3-Large training 21.7 -> 33.7 img/s here, benchmarks/timm_training.py)
  and the malloc tuning of :mod:`nimabench_timm.allocator`; no autocast (bf16 is slower than fp32 on CPUs
  without AMX).
- Seeds: torch's and NumPy's from the trial's seed; cuDNN in deterministic mode without autotuning, so an
  evaluation gives the same scores every run (the complaint about pyiqa's random test crops, in FACTS).
"""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass, field

import numpy as np
import torch

from nimabench.errors import NimabenchError
from nimabench_timm.allocator import tune_malloc


@dataclass(frozen=True)
class Runtime:
    device: torch.device
    amp_dtype: torch.dtype | None = None
    channels_last: bool = True
    malloc: dict[str, int] = field(default_factory=dict)
    prefetch: int = 0  # batches prepared ahead in a thread: GPU only (on the CPU the step uses every core)

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last if self.channels_last else torch.contiguous_format

    def describe(self) -> str:
        amp = f", {str(self.amp_dtype).removeprefix('torch.')} autocast" if self.amp_dtype else ""
        layout = "channels-last" if self.channels_last else "NCHW"
        return f"{self.device.type}{amp}, {layout}"


def choose_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise NimabenchError(f"device {name!r} asked for, but torch {torch.__version__} sees no CUDA GPU")
    if name != "cpu" and not name.startswith("cuda"):
        raise NimabenchError(f"unknown device {name!r}; choose auto, cpu or cuda")
    return torch.device(name)


def setup_runtime(device: str = "auto", *, threads: int | None = None, seed: int = 0,
                  channels_last: bool = True, tune_allocator: bool = True) -> Runtime:
    chosen = choose_device(device)
    malloc = tune_malloc() if tune_allocator and chosen.type == "cpu" else {}
    if threads:
        torch.set_num_threads(threads)
    seed_everything(seed)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    amp = torch.bfloat16 if chosen.type == "cuda" and torch.cuda.is_bf16_supported() else None
    return Runtime(chosen, amp, channels_last, malloc, prefetch=2 if chosen.type == "cuda" else 0)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
