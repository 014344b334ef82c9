"""nimabench: benchmark NIMA-style image quality models across backbones, losses and schedules.

The core is framework-free: it defines the five interfaces (dataset, backbone, loss, schedule, trainer),
the plugin system, labels, metrics, the image cache and the CLI. TensorFlow and PyTorch arrive through
plugins (``plugins/nimabench-keras``, ``plugins/nimabench-timm``) installed like any third-party plugin.
"""

from importlib.metadata import PackageNotFoundError, version

from nimabench.hookspecs import hookimpl

try:
    __version__ = version("nimabench")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "hookimpl"]
