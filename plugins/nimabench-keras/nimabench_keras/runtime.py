"""Where and how a Keras trial computes: device, precision, XLA, threads, seeds and determinism.

TensorFlow takes these settings only before its runtime starts (the first op), so :func:`setup_runtime`
runs first thing in a trial; a trial runs in its own process, so that holds. Called again in the same
process (tests), settings that can no longer change are kept, with a warning if they differ.

- device ``auto`` uses a GPU when TensorFlow sees one, else the CPU; ``cpu`` hides the GPUs; ``cuda``
  without a GPU is an error that says which TensorFlow is installed (tensorflow-cpu has no CUDA).
- GPU: memory growth on (TensorFlow would otherwise take all of it at start), bfloat16 mixed precision on
  GPUs that have it (compute capability 8.0+: no loss scaling needed, as in the PyTorch trainer), and XLA.
- CPU: float32 and no XLA (FACTS: jit_compile=True trains 6x slower on this CPU).
- Seeds: ``keras.utils.set_random_seed`` (Python, NumPy, TensorFlow). On the CPU op determinism is on too
  (it costs nothing measurable there: 1.72 vs 1.73 s a MobileNet step), so a CPU trial gives the same
  weights and scores every run. On a GPU it stays off: TensorFlow's deterministic mode refuses some GPU
  kernels outright (an error, not a slowdown), and a failed trial is worse than last-bit differences.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nimabench.errors import NimabenchError

log = logging.getLogger(__name__)

BFLOAT16_COMPUTE_CAPABILITY = (8, 0)


@dataclass(frozen=True)
class KerasRuntime:
    device: str  # "cpu" | "cuda"
    precision: str  # a Keras dtype policy: "float32" | "mixed_bfloat16"
    jit_compile: bool
    threads: int | None

    def describe(self) -> str:
        threads = f", {self.threads} threads" if self.threads else ""
        return f"{self.device}, {self.precision}{', XLA' if self.jit_compile else ''}{threads}"


def setup_runtime(device: str = "auto", *, threads: int | None = None, seed: int = 0) -> KerasRuntime:
    import keras
    import tensorflow as tf

    if device not in ("auto", "cpu", "cuda"):
        raise NimabenchError(f"unknown device {device!r}; choose auto, cpu or cuda")
    _set_threads(tf, threads)
    gpus = _usable_gpus(tf, device)
    precision = "mixed_bfloat16" if gpus and _has_bfloat16(tf, gpus[0]) else "float32"
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(seed)
    if not gpus:
        tf.config.experimental.enable_op_determinism()
    return KerasRuntime("cuda" if gpus else "cpu", precision, jit_compile=bool(gpus), threads=threads)


def _set_threads(tf, threads: int | None) -> None:
    if not threads:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
    except RuntimeError:  # the runtime already started in this process
        current = tf.config.threading.get_intra_op_parallelism_threads()
        if current != threads:
            log.warning("TensorFlow already runs with %s intra-op threads; %d asked for is ignored",
                        current or "default", threads)


def _usable_gpus(tf, device: str) -> list:
    gpus = tf.config.list_physical_devices("GPU")
    if device == "cuda" and not gpus:
        raise NimabenchError(
            f"device 'cuda' asked for, but TensorFlow {tf.__version__} sees no GPU; tensorflow-cpu has no "
            "CUDA support: on a GPU machine install nimabench-keras[gpu] (see its README)")
    if device == "cpu" and gpus:
        _quietly(tf.config.set_visible_devices, [], "GPU")
        return []
    for gpu in gpus:
        _quietly(tf.config.experimental.set_memory_growth, gpu, True)
    return gpus


def _has_bfloat16(tf, gpu) -> bool:
    capability = tf.config.experimental.get_device_details(gpu).get("compute_capability") or (0, 0)
    return tuple(capability) >= BFLOAT16_COMPUTE_CAPABILITY


def _quietly(setting, *args) -> None:
    """Apply a setting that TensorFlow refuses once its runtime started (a second trial in one process)."""
    try:
        setting(*args)
    except (RuntimeError, ValueError) as error:
        log.debug("TensorFlow setting %s kept as it was: %s", setting.__name__, error)
