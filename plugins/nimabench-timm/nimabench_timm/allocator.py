"""Tune glibc malloc in-process so PyTorch's CPU training stops page-faulting.

PyTorch's CPU allocator is plain malloc. glibc serves blocks above ``M_MMAP_THRESHOLD`` (128 KiB, adapting
up to 32 MiB) with a fresh ``mmap`` and gives them back with ``munmap`` on free, and trims the heap top
above ``M_TRIM_THRESHOLD``; a training step allocates and frees hundreds of MB of activations, so every
step maps new zeroed pages and faults on each of them (190,000-300,000 minor faults per step for
MobileNetV3-Large at 224, batch 32, here). Turning mmap off for ordinary allocations (``M_MMAP_MAX=0``)
and never trimming keeps the freed memory in the heap for the next step: the faults drop to a few
thousand. This is what tcmalloc gives through LD_PRELOAD (FACTS), done with ``mallopt`` through ctypes,
with nothing to install. The price is that the process keeps its peak heap until it exits - harmless for a
trial, which runs in its own process.

Measured (benchmarks/timm_training.py, 2 threads, medians): NCHW 21.7 -> 26.1 img/s (1.20x); with
channels-last 33.7 -> 36.6. ``high-threshold`` (mmap threshold at glibc's 32 MiB maximum) left half the
faults and gained little (25.4 with channels-last); ``no-mmap-one-arena`` matched ``no-mmap``.

Skipped when another allocator is preloaded (tcmalloc, jemalloc, mimalloc), off glibc, or when
``NIMABENCH_MALLOC=default``; ``NIMABENCH_MALLOC=<preset>`` picks another of :data:`PRESETS`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import platform

from nimabench.errors import NimabenchError

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
M_MMAP_MAX = -4
M_ARENA_MAX = -8

INT_MAX = 2**31 - 1  # mallopt takes an int: for the trim threshold, "never"
# Candidate settings, measured by benchmarks/timm_training.py; TUNED is the one applied by default.
PRESETS: dict[str, dict[str, tuple[int, int]]] = {
    "no-mmap": {"M_MMAP_MAX": (M_MMAP_MAX, 0), "M_TRIM_THRESHOLD": (M_TRIM_THRESHOLD, INT_MAX),
                "M_TOP_PAD": (M_TOP_PAD, 64 << 20)},
    "no-mmap-one-arena": {"M_MMAP_MAX": (M_MMAP_MAX, 0), "M_TRIM_THRESHOLD": (M_TRIM_THRESHOLD, INT_MAX),
                          "M_TOP_PAD": (M_TOP_PAD, 64 << 20), "M_ARENA_MAX": (M_ARENA_MAX, 1)},
    "high-threshold": {"M_MMAP_THRESHOLD": (M_MMAP_THRESHOLD, 32 << 20),  # glibc's maximum on 64-bit
                       "M_TRIM_THRESHOLD": (M_TRIM_THRESHOLD, INT_MAX), "M_TOP_PAD": (M_TOP_PAD, 64 << 20)},
}
TUNED = "no-mmap"
MALLOC_ENV = "NIMABENCH_MALLOC"  # "default" (leave malloc alone) or a preset name
OTHER_ALLOCATORS = ("tcmalloc", "jemalloc", "mimalloc")
_applied: dict[str, int] | None = None


def tune_malloc(preset: str | None = None) -> dict[str, int]:
    """Apply a preset (default: ``$NIMABENCH_MALLOC``, else :data:`TUNED`) once per process.

    Returns the settings applied, empty when skipped.
    """
    global _applied
    if _applied is not None:
        return _applied
    _applied = {}
    chosen = preset or os.environ.get(MALLOC_ENV) or TUNED
    reason = _skip_reason(chosen)
    if reason:
        log.debug("malloc tuning skipped: %s", reason)
        return _applied
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    for name, (option, value) in PRESETS[chosen].items():
        if libc.mallopt(option, value) == 1:
            _applied[name] = value
        else:
            log.warning("mallopt(%s, %d) was refused", name, value)
    return _applied


def _skip_reason(preset: str) -> str | None:
    if preset == "default":
        return f"{MALLOC_ENV}=default"
    if preset not in PRESETS:
        raise NimabenchError(f"{MALLOC_ENV}={preset!r}: choose default or one of {', '.join(PRESETS)}")
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return "not glibc"
    preload = os.environ.get("LD_PRELOAD", "")
    if any(name in preload for name in OTHER_ALLOCATORS):
        return f"another allocator is preloaded ({preload})"
    return None
